"""What the transcript recorders (record-*-transcripts.py) share: RESP encoding, a connection that reads
one reply byte for byte, and the C# string literal of a reply."""
import shlex
import socket


def parse(line):
    # shlex keeps quoted empty strings; \xNN escapes become bytes.
    return [a.encode("latin1").decode("unicode_escape").encode("latin1") for a in shlex.split(line)]


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        i = self.buf.index(b"\r\n")
        l, self.buf = self.buf[:i + 2], self.buf[i + 2:]
        return l

    def exact(self, n):
        while len(self.buf) < n:
            self.buf += self.s.recv(65536)
        b, self.buf = self.buf[:n], self.buf[n:]
        return b

    def reply(self):
        l = self.line()
        t = l[:1]
        if t in (b"$", b"=", b"!"):
            n = int(l[1:-2])
            return l if n < 0 else l + self.exact(n + 2)
        if t in (b"*", b"~", b">", b"%", b"|"):
            n = int(l[1:-2])
            if t in (b"%", b"|"):
                n *= 2
            out = l
            for _ in range(max(n, 0)):
                out += self.reply()
            return out
        return l

    def call(self, args):
        self.s.sendall(encode(args))
        return self.reply()


def cs(b):
    out = []
    for ch in b:
        if ch == 0x22:
            out.append('\\"')
        elif ch == 0x5C:
            out.append("\\\\")
        elif ch == 0x0D:
            out.append("\\r")
        elif ch == 0x0A:
            out.append("\\n")
        elif 0x20 <= ch < 0x7F:
            out.append(chr(ch))
        else:
            out.append("\\u%04x" % ch)
    return '"' + "".join(out) + '"'


def run_commands(port, commands, proto, preamble):
    """The (args, reply) of each command on a fresh connection, after HELLO 3 when proto is 3 and the preamble."""
    c = Conn(port)
    if proto == 3:
        c.call([b"hello", b"3"])
    for p in preamble:
        c.call(parse(p))
    return [(parse(cmd), c.call(parse(cmd))) for cmd in commands]
