"""Measurement prototype behind tracer/pipeline.py: is building, recording and printing each event faster in a second
process than on the tracer's own thread, on this 2-CPU machine? (docs/hotpath.md has the result.)

    python -m bench.split_prototype COUNT ROUNDS strace,bare,inthread,split[,split-nice,split-idle,split-1k]

Each mode traces `dd bs=1 count=COUNT` with a bare ptrace loop (waitpid, GET_SYSCALL_INFO, PTRACE_SYSCALL) and:
`bare` nothing more; `inthread` builds each Syscall event after the resume and hands it to the real Recorder and
ConsoleView (output to /dev/null) in this process; `split` sends tuples in pickled batches through a pipe to a
forked process that does that work. Interleaved rounds; ratios are paired against the first mode.
"""
# ruff: noqa
import ctypes, os, pickle, signal, struct, sys, time, statistics, subprocess
from tracer import ptrace_api as pt
from tracer.decoders import SYSCALLS
from tracer.events import Syscall, Category
from tracer.recording import Recorder
from tracer.xlat.errnos import errno_name
from rich.console import Console
from viz.console import ConsoleView

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
modes = (sys.argv[3] if len(sys.argv) > 3 else "strace,bare,inthread,split").split(",")
argv = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={count}"]
libc = ctypes.CDLL(None, use_errno=True)
raw = libc.ptrace
raw.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
raw.restype = ctypes.c_long
buf = ctypes.create_string_buffer(88); addr = ctypes.addressof(buf)
NARGS = struct.Struct("<7Q"); RV = struct.Struct("<qB")

def spawn():
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR); os.dup2(null, 1); os.dup2(null, 2)
        os.kill(os.getpid(), signal.SIGSTOP); os.execvp(argv[0], argv)
    os.waitpid(pid, os.WUNTRACED); return pid

def build(rec):
    seq, t, tgid, tid, nr, regs, rval, is_err, dur = rec
    spec = SYSCALLS.get(nr)
    return Syscall(seq, t, pid=tgid, tid=tid, name=spec.name if spec else f"syscall_{nr}", nr=nr,
                   args={"args": [hex(a) for a in regs]}, ret=rval, error=errno_name(-rval) if is_err else None,
                   category=spec.category if spec else Category.OTHER, dur=dur)

def make_sinks():
    null = open(os.devnull, "w")
    view = ConsoleView(Console(file=null, highlight=False, soft_wrap=True), live_status=False)
    rec = Recorder(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"split-prototype-{os.getpid()}.jsonl"))
    def dispatch(ev):
        rec.write(ev); view(ev)
    return dispatch, rec

def loop(out):
    """out(record) called after resume"""
    pid = spawn()
    pt.seize(pid, pt.BASE_OPTIONS | pt.PTRACE_O_EXITKILL)
    os.kill(pid, signal.SIGCONT)
    t0 = time.monotonic(); seq = 0; pending = {}
    waitpid = os.waitpid; mono = time.monotonic
    while True:
        tid, status = waitpid(-1, pt.WALL)
        if status & 0x7F != 0x7F:
            if tid == pid: break
            continue
        sig = (status >> 8) & 0xFF
        rec = None
        if sig == 0x85:
            raw(pt.PTRACE_GET_SYSCALL_INFO, tid, 88, addr)
            r = buf.raw
            if r[0] == 1:
                v = NARGS.unpack_from(r, 24)
                pending[tid] = (v[0], v[1:], mono())
            elif r[0] == 2:
                p = pending.pop(tid, None)
                if p is not None:
                    rv, e = RV.unpack_from(r, 24)
                    now = mono()
                    rec = (seq, round(now - t0, 6), tid, tid, p[0], p[1], rv, e, round(now - p[2], 6)); seq += 1
            raw(pt.PTRACE_SYSCALL, tid, None, None)
        else:
            raw(pt.PTRACE_SYSCALL, tid, None, sig if (status >> 16 == 0 and sig != 5) else None)
        if rec is not None:
            out(rec)

def mode_inthread():
    dispatch, rec = make_sinks()
    loop(lambda r: dispatch(build(r)))
    rec.close()

def mode_split(batch=256, nice=0, idle=False):
    rfd, wfd = os.pipe()
    child = os.fork()
    if child == 0:  # consumer
        os.close(wfd)
        if nice: os.nice(nice)
        if idle: os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        dispatch, rec = make_sinks()
        f = os.fdopen(rfd, "rb", buffering=1 << 20)
        up = pickle.Unpickler(f)
        while True:
            try: recs = pickle.load(f)
            except EOFError: break
            for r in recs: dispatch(build(r))
        rec.close(); os._exit(0)
    os.close(rfd)
    box = []
    w = os.fdopen(wfd, "wb", buffering=0)
    def out(r):
        box.append(r)
        if len(box) >= batch:
            w.write(pickle.dumps(box, 5)); box.clear()
    loop(out)
    if box: w.write(pickle.dumps(box, 5))
    w.close(); os.waitpid(child, 0)

def timed(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t

def strace():
    subprocess.run(["strace", "-f", "-o", "/dev/null", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

fns = {"strace": strace, "inthread": mode_inthread, "split": mode_split, "bare": lambda: loop(lambda r: None), "split-nice": lambda: mode_split(nice=10), "split-idle": lambda: mode_split(idle=True), "split-1k": lambda: mode_split(1024)}
res: dict[str, list[float]] = {m: [] for m in modes}
for i in range(rounds):
    for m in modes:
        res[m].append(timed(fns[m]))
    print(" ".join(f"{m} {res[m][-1]:.2f}" for m in modes), flush=True)
base = res[modes[0]]
for m in modes:
    ratios = [a / b for a, b in zip(res[m], base)]
    print(f"{m}: median {statistics.median(res[m]):.3f}  x{modes[0]} median {statistics.median(ratios):.3f} ({min(ratios):.2f}-{max(ratios):.2f})")
