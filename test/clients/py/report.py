"""Shared plumbing for the client scripts: turn observations into JSON on
stdout, and turn any exception into a non-zero exit with the traceback on
stderr, so the calling test shows why a script failed."""
import json
import socket
import sys
import traceback


def jsonable(x):
    """bytes become their Python repr (b'0 ') so padding and NULs stay visible;
    large ints become strings."""
    if isinstance(x, bytes):
        return repr(x)
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) > 2 ** 53:
        return str(x)  # beyond what a JSON number keeps exactly in JavaScript
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


def error_name(fn):
    """Runs fn and returns the name of what it raised, or its result."""
    try:
        return fn()
    except Exception as e:  # the class and message are what we compare
        return {"raised": type(e).__name__, "message": str(e)}


def raw_command(port, line, timeout=5):
    """Sends one command line on a fresh connection; returns the first reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(line)
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf


def run(main):
    """Calls main(argv) and prints its result as JSON; exit 1 on any error."""
    try:
        result = main(sys.argv[1:])
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    print(json.dumps(jsonable(result)))
