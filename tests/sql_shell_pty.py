#!/usr/bin/env python3
"""Drives `hdb sql` under a pseudo-terminal, as a person at a keyboard would.

Usage: sql_shell_pty.py HDB_BINARY DB_PATH HISTORY_PATH LINE...

Runs `HDB_BINARY sql DB_PATH` with its stdin, stdout and stderr on a new pty (so the
binary sees a terminal and starts its interactive shell, with rustyline in raw mode),
waits for each prompt, types the next LINE followed by Enter, and after the last line
sends Ctrl-D. A LINE of exactly "<ctrl-c>" sends Ctrl-C instead. A LINE "<cancel>SQL"
types SQL and then, until a prompt comes back, Ctrl-C every half second (the first may
come before the statement starts, and be ignored). Answers the terminal's
cursor-position query (ESC [6n) the way a terminal would. Prints the session transcript
on stdout with ANSI escape sequences and carriage returns removed, then exits with the
shell's exit status. Exits 77 if no pty can be had (the caller skips the test).

Used by tests/sql_cli.rs; it is only a driver, all the checks are in the Rust test.
"""

import os
import re
import select
import sys
import time

try:
    import fcntl
    import pty
    import struct
    import termios
except ImportError:
    sys.exit(77)

TIMEOUT_S = 60.0
PROMPT_AT_END = re.compile(r"(^|\n)hdb(=|-|=\*|=!)> $")
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")


def clean(raw):
    return ESCAPES.sub("", raw.decode("utf-8", "replace")).replace("\r", "")


def main():
    binary, db, history = sys.argv[1:4]
    lines = sys.argv[4:]
    try:
        pid, fd = pty.fork()
    except OSError:
        sys.exit(77)
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        env = dict(os.environ, HDB_HISTORY=history, TERM="xterm")
        os.execve(binary, [binary, "sql", db], env)

    raw = b""
    sent_at = 0  # where in `raw` the output after the last keystrokes starts
    pending = list(lines)
    finished = False
    cancel_at = None  # when to send the next Ctrl-C to a running statement
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the pty
                break
            if not chunk:
                break
            raw += chunk
            if b"\x1b[6n" in chunk:
                os.write(fd, b"\x1b[1;1R")
            continue
        # Quiet: if the shell is waiting at a prompt, type the next line.
        if finished or not PROMPT_AT_END.search(clean(raw[sent_at:])):
            if cancel_at is not None and time.monotonic() >= cancel_at:
                os.write(fd, b"\x03")
                cancel_at += 0.5
            continue
        sent_at = len(raw)
        cancel_at = None
        if pending:
            line = pending.pop(0)
            if line.startswith("<cancel>"):
                line = line[len("<cancel>"):]
                cancel_at = time.monotonic() + 0.5
            os.write(fd, b"\x03" if line == "<ctrl-c>" else line.encode() + b"\r")
        else:
            os.write(fd, b"\x04")
            finished = True
    else:
        os.kill(pid, 9)
        sys.stdout.write(clean(raw))
        sys.stdout.write("\n[driver: timed out]\n")
        sys.exit(124)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(clean(raw))
    sys.exit(os.waitstatus_to_exitcode(status))


main()
