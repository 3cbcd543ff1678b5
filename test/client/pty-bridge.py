#!/usr/bin/env python3
"""Run a command in a real pseudo-terminal and bridge it to pipes.

    pty-bridge.py COLS ROWS [ALT_COLS ALT_ROWS] -- COMMAND [ARG...]

The command gets a pty of COLS x ROWS as its stdin, stdout and stderr (so
`process.stdin.isTTY` is true and raw mode works). Bytes written to this
script's stdin are typed into the terminal; everything the command writes to
the terminal comes out on this script's stdout. SIGUSR1 switches the window
to ALT_COLS x ALT_ROWS (and back), sending SIGWINCH as a real resize does.
The script exits with the command's exit status once the command has exited
and its output has been drained.

Only the Python standard library (pty, termios): no native npm addon.
"""

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios


def set_size(fd, cols, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main(argv):
    sep = argv.index("--")
    sizes = [int(x) for x in argv[1:sep]]
    cmd = argv[sep + 1:]
    cols, rows = sizes[0], sizes[1]
    alt = (sizes[2], sizes[3]) if len(sizes) >= 4 else None

    pid, master = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)

    set_size(master, cols, rows)
    current = [(cols, rows)]

    def on_usr1(_sig, _frame):
        if alt is None:
            return
        nxt = alt if current[0] == (cols, rows) else (cols, rows)
        current[0] = nxt
        set_size(master, nxt[0], nxt[1])
        try:
            os.kill(pid, signal.SIGWINCH)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGUSR1, on_usr1)

    stdin_open = True
    out = sys.stdout.buffer
    status = None
    while True:
        fds = [master] + ([0] if stdin_open else [])
        try:
            ready, _, _ = select.select(fds, [], [], 0.05)
        except InterruptedError:
            continue
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if data:
                out.write(data)
                out.flush()
            elif status is not None:
                break
        if stdin_open and 0 in ready:
            data = os.read(0, 4096)
            if data:
                os.write(master, data)
            else:
                stdin_open = False
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        if status is not None and master not in ready:
            # Drain whatever is left, then stop.
            try:
                while True:
                    r, _, _ = select.select([master], [], [], 0.05)
                    if not r:
                        break
                    data = os.read(master, 65536)
                    if not data:
                        break
                    out.write(data)
                    out.flush()
            except OSError:
                pass
            break
    code = os.waitstatus_to_exitcode(status) if status is not None else 1
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main(sys.argv)
