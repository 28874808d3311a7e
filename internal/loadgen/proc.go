package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ProcReport is what /proc says about a process during the drawing phase.
type ProcReport struct {
	PID int `json:"pid"`
	// CPUSeconds is user+system CPU time used during the phase;
	// CPUPercent is that over the phase's wall time (100 = one core).
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent"`
	// PeakRSSKB is the largest resident set sampled during the phase
	// (every 250 ms); VmHWMKB is the kernel's lifetime high-water mark.
	PeakRSSKB int64  `json:"peak_rss_kb"`
	VmHWMKB   int64  `json:"vm_hwm_kb"`
	Error     string `json:"error,omitempty"`
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU returns the user+system CPU time of pid.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line. The command name (field 2) may contain spaces and
// parentheses, so fields are counted after the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: malformed /proc stat")
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: /proc stat has %d fields after the name", len(f))
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil || ut < 0 || st < 0 {
		return 0, fmt.Errorf("loadgen: bad cpu times in /proc stat")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// procMem returns VmRSS and VmHWM of pid in kB.
func procMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	rss, hwm = parseStatusMem(b)
	return rss, hwm, nil
}

func parseStatusMem(b []byte) (rss, hwm int64) {
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		var dst *int64
		switch string(k) {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &hwm
		default:
			continue
		}
		f := bytes.Fields(v)
		if len(f) > 0 {
			n, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err == nil {
				*dst = n
			}
		}
	}
	return rss, hwm
}

// procSampler samples one process's memory in its own goroutine (owned by
// the sampler; stop joins it).
type procSampler struct {
	pid     int
	cpu0    time.Duration
	err     error
	quit    chan struct{}
	done    chan struct{}
	peakRSS int64 // owned by the sampling goroutine until done
}

func startProcSampler(pid int) *procSampler {
	p := &procSampler{pid: pid, quit: make(chan struct{}), done: make(chan struct{})}
	p.cpu0, p.err = procCPU(pid)
	go func() {
		defer close(p.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := procMem(pid); err == nil {
				p.peakRSS = max(p.peakRSS, rss)
			}
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *procSampler) stop(wall time.Duration) *ProcReport {
	close(p.quit)
	<-p.done
	rep := &ProcReport{PID: p.pid, PeakRSSKB: p.peakRSS}
	cpu1, err := procCPU(p.pid)
	if err == nil {
		err = p.err
	}
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	rss, hwm, err := procMem(p.pid)
	if err == nil {
		rep.PeakRSSKB = max(rep.PeakRSSKB, rss)
		rep.VmHWMKB = hwm
	}
	rep.CPUSeconds = (cpu1 - p.cpu0).Seconds()
	if wall > 0 {
		rep.CPUPercent = 100 * rep.CPUSeconds / wall.Seconds()
	}
	return rep
}
