"""The shipped configs of deploy/ with their ports and addresses filled in:
the one rewrite that deploy/local-cluster and the tests in tests/deploy use,
so that what is tested is what runs. Each function fails loudly (ValueError)
when the shipped file no longer has the line it rewrites."""

import re
import socket

SHIPPED_RECEIVER = "http://127.0.0.1:9095"


def free_port():
    """A TCP port free on 127.0.0.1 now (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _replace_once(pattern, repl, text, what):
    out, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
    if n != 1:
        raise ValueError(f"expected one {what} in the config, found {n}")
    return out


def _replace_server_lines(pattern, make_line, text, servers):
    """Replaces the block of `server` lines with one line per server. The
    first shipped line is the template (its options are kept); the others
    are dropped."""
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if re.match(pattern, line)]
    if not hits:
        raise ValueError("no server lines in the config")
    template = re.match(pattern, lines[hits[0]])
    new = [make_line(template, name, address) for name, address in servers]
    out = []
    for i, line in enumerate(lines):
        if i == hits[0]:
            out.extend(new)
        elif i not in hits:
            out.append(line)
    return "".join(out)


def render_haproxy(text, listen_port, stats_port, servers, host="127.0.0.1"):
    """haproxy.cfg with the frontend on host:listen_port, the stats page on
    host:stats_port, and one `server NAME HOST:PORT ...` per (name, address)
    of `servers`."""
    text = _replace_once(r"^(\s*bind\s+)127\.0\.0\.1:8080\b",
                         rf"\g<1>{host}:{listen_port}", text, "bind :8080")
    text = _replace_once(r"^(\s*bind\s+)127\.0\.0\.1:8404\b",
                         rf"\g<1>{host}:{stats_port}", text, "bind :8404")
    return _replace_server_lines(
        r"^(\s*)server\s+\S+\s+[\w.\-]+:\d+(.*)$",
        lambda m, name, address: f"{m.group(1)}server {name} {address}{m.group(2)}\n",
        text, servers)


def render_nginx(text, listen_port, addresses, host="127.0.0.1"):
    """nginx.conf listening on host:listen_port, one upstream `server
    HOST:PORT ...;` per address."""
    text = _replace_once(r"^(\s*listen\s+)127\.0\.0\.1:8080;",
                         rf"\g<1>{host}:{listen_port};", text, "listen :8080")
    return _replace_server_lines(
        r"^(\s*)server\s+[\w.\-]+:\d+(.*;)\s*$",
        lambda m, name, address: f"{m.group(1)}server {address}{m.group(2)}\n",
        text, [(None, a) for a in addresses])


def render_alertmanager(text, receiver_base):
    """alertmanager.yml with its webhook URLs on receiver_base (both
    receivers: /pager and /tickets)."""
    if text.count(SHIPPED_RECEIVER + "/") != 2:
        raise ValueError(f"expected two webhook URLs on {SHIPPED_RECEIVER}")
    return text.replace(SHIPPED_RECEIVER + "/", receiver_base.rstrip("/") + "/")
