package webui

import (
	"slices"
	"testing"
)

func TestSmoother(t *testing.T) {
	t.Parallel()
	var s Smoother[int]
	for i := range 10 {
		s.Push(i)
	}
	// Frames 4: ceil(10/4)=3, then ceil(7/4)=2, ceil(5/4)=2, ceil(3/4)=1 …
	want := [][]int{{0, 1, 2}, {3, 4}, {5, 6}, {7}, {8}, {9}}
	for i, w := range want {
		if got := s.Take(); !slices.Equal(got, w) {
			t.Fatalf("take %d = %v, want %v", i, got, w)
		}
	}
	if got := s.Take(); got != nil || s.Len() != 0 {
		t.Fatalf("empty take = %v, len %d", got, s.Len())
	}
	s.Frames = 1
	s.Push(1)
	s.Push(2)
	if got := s.Take(); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("Frames 1 take = %v", got)
	}
	s.Frames = 8
	s.Push(5)
	s.Push(6)
	if got := s.Flush(); !slices.Equal(got, []int{5, 6}) || s.Len() != 0 {
		t.Errorf("flush = %v", got)
	}
}
