package sessionfile

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"drawbridge/protocol"
)

// The crash test re-executes the test binary as a child process that
// appends frames to a session and reports each AppendHistory that returned
// on stdout; the parent SIGKILLs it at a random point and checks that every
// reported frame is in the reloaded history.
const (
	crashEnvDir    = "SESSIONFILE_CRASH_DIR"
	crashEnvCycle  = "SESSIONFILE_CRASH_CYCLE"
	crashEnvPolicy = "SESSIONFILE_CRASH_POLICY"
	crashTypeData  = 200
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnvDir); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild appends until killed. Each data frame's payload starts with
// u32 cycle, u32 index; after AppendHistory returns it prints
// "<cycle> <last index>" (os.Stdout is unbuffered: one write per line).
func crashChild(dir string) error {
	cycle, err := strconv.Atoi(os.Getenv(crashEnvCycle))
	if err != nil {
		return err
	}
	policy, err := ParseFsyncPolicy(os.Getenv(crashEnvPolicy))
	if err != nil {
		return err
	}
	opts := Options{Fsync: policy}
	var f *File
	if _, err := os.Stat(filepath.Join(dir, JournalName(testID))); err == nil {
		f, _, err = Open(dir, testID, opts)
		if err != nil {
			return err
		}
	} else if f, err = Create(dir, testID, Meta{Founder: "crash"}, opts); err != nil {
		return err
	}
	user := uint8(cycle + 1)
	join, _ := protocol.NewFrame(protocol.TypeJoin, user, []byte("\x00\x04user"))
	if err := f.AppendHistory(join); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(cycle), 7))
	for i := 0; i < 200000; {
		n := 1 + rng.IntN(3)
		frames := make([]protocol.Frame, n)
		for k := range frames {
			payload := make([]byte, 8+rng.IntN(3000))
			binary.BigEndian.PutUint32(payload, uint32(cycle))
			binary.BigEndian.PutUint32(payload[4:], uint32(i))
			for j := 8; j < len(payload); j++ {
				payload[j] = byte(i + j)
			}
			frames[k], _ = protocol.NewFrame(crashTypeData, user, payload)
			i++
		}
		if err := f.AppendHistory(frames...); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(os.Stdout, "%d %d\n", cycle, i-1); err != nil {
			return err
		}
		if i%97 == 0 {
			if err := f.SetTitle(fmt.Sprintf("cycle %d at %d", cycle, i)); err != nil {
				return err
			}
		}
	}
	return f.Close()
}

func TestCrashKillNeverLosesReturnedAppends(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 42))
	policies := []string{"never", "batch", "always", "never", "batch", "never"}
	reported := map[int]int{} // cycle → last index whose Append returned
	for cycle, policy := range policies {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvCycle+"="+strconv.Itoa(cycle), crashEnvPolicy+"="+policy)
		cmd.Stderr = t.Output()
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		killAfter := 1 + rng.IntN(400)
		lines, last := 0, -1
		killed := false
		for sc.Scan() {
			var c, i int
			if _, err := fmt.Sscanf(sc.Text(), "%d %d", &c, &i); err != nil || c != cycle {
				t.Fatalf("child said %q", sc.Text())
			}
			last = i
			lines++
			if lines == killAfter && !killed {
				cmd.Process.Kill() // SIGKILL; keep reading what it reported before dying
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed || err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("cycle %d: child was not killed (lines %d, err %v)", cycle, lines, err)
		}
		reported[cycle] = last
		t.Logf("cycle %d (%s): killed after %d reports, last index %d", cycle, policy, lines, last)
		checkCrashDir(t, dir, cycle, reported)
	}
}

// checkCrashDir reloads the session and checks that every reported frame
// is present, in order, byte for byte, and that the killed child's user
// got a synthetic Leave.
func checkCrashDir(t *testing.T, dir string, cycle int, reported map[int]int) {
	t.Helper()
	f, rec, err := Open(dir, testID, Options{Fsync: FsyncNever, Logger: testLogger(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	next := map[int]int{} // cycle → next expected index
	leaves := map[uint8]bool{}
	for fr, err := range f.History() {
		if err != nil {
			t.Fatal(err)
		}
		switch fr.Type() {
		case protocol.TypeLeave:
			leaves[fr.Ctx()] = true
		case crashTypeData:
			p := fr.Payload()
			c, i := int(binary.BigEndian.Uint32(p)), int(binary.BigEndian.Uint32(p[4:]))
			if i != next[c] {
				t.Fatalf("cycle %d: frame %d where %d was expected", c, i, next[c])
			}
			for j := 8; j < len(p); j++ {
				if p[j] != byte(i+j) {
					t.Fatalf("cycle %d frame %d: corrupt payload at %d", c, i, j)
				}
			}
			next[c]++
		}
	}
	for c := 0; c <= cycle; c++ {
		if next[c]-1 < reported[c] {
			t.Errorf("cycle %d: history ends at frame %d, but the append of frame %d had returned", c, next[c]-1, reported[c])
		}
		if !leaves[uint8(c+1)] {
			t.Errorf("cycle %d: no Leave for user %d", c, c+1)
		}
	}
	if cycle == 0 && rec == nil {
		t.Error("no recovery report")
	}
}
