"""A small ManageSieve client (RFC 5804): enough to read the active script, upload ours,
activate one and delete ours. Strings go out as non-synchronizing literals ({N+}), so a
script name or text is never mis-quoted."""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import ssl

from . import ProviderError

TIMEOUT_SECONDS = 10
LITERAL = re.compile(rb"^\{(\d+)\+?\}\r\n$")


class ManageSieve:
    def __init__(self, host: str, port: int):
        try:
            self.sock = socket.create_connection((host, port), timeout=TIMEOUT_SECONDS)
        except OSError as failure:
            raise ProviderError(None, f"ManageSieve {host}:{port}: {failure}") from None
        self.host = host
        self.file = self.sock.makefile("rb")
        capabilities = self._response()
        if any(name.upper() == "STARTTLS" for name, _ in capabilities):
            self._command("STARTTLS")
            self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=host)
            self.file = self.sock.makefile("rb")
            self._response()  # the capabilities again, over TLS

    def close(self) -> None:
        with contextlib.suppress(OSError, ProviderError):
            self._send(b"LOGOUT\r\n")
        self.sock.close()

    def authenticate(self, login: str, password: str, as_user: str = "") -> None:
        """SASL PLAIN (RFC 4616): authorize as `as_user` (a Dovecot master login acting for
        the mailbox), or as the login itself when empty."""
        token = base64.b64encode(f"{as_user}\0{login}\0{password}".encode()).decode()
        self._command("AUTHENTICATE", "PLAIN", token)

    def scripts(self) -> dict[str, bool]:
        """{name: is_active}."""
        found = {}
        for name, rest in self._command("LISTSCRIPTS"):
            found[name] = rest.strip().upper() == "ACTIVE"
        return found

    def get(self, name: str) -> str:
        items = self._command("GETSCRIPT", name)
        return items[0][0] if items else ""

    def put(self, name: str, script: str) -> None:
        self._command("PUTSCRIPT", name, script)

    def activate(self, name: str) -> None:
        """Activate `name`; "" deactivates every script."""
        self._command("SETACTIVE", name)

    def delete(self, name: str) -> None:
        self._command("DELETESCRIPT", name)

    def _command(self, verb: str, *arguments: str) -> list[tuple[str, str]]:
        parts = [verb.encode()]
        for argument in arguments:
            raw = argument.encode("utf-8")
            parts.append(b"{%d+}\r\n" % len(raw) + raw)
        self._send(b" ".join(parts) + b"\r\n")
        return self._response()

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as failure:
            raise ProviderError(None, f"ManageSieve: {failure}") from None

    def _response(self) -> list[tuple[str, str]]:
        """The data items up to OK, each (its string, the rest of its line): a quoted string
        or a literal ({N} and N bytes); NO or BYE is a ProviderError."""
        items = []
        while True:
            line = self._line()
            literal = LITERAL.match(line)
            if literal:
                data = self._read(int(literal.group(1)))
                items.append((data.decode("utf-8", "replace"), self._line().decode().strip()))
                continue
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if text.upper().startswith("OK"):
                return items
            if text.upper().startswith(("NO", "BYE")):
                raise ProviderError(None, f"ManageSieve: {text}")
            items.append(_string(text))

    def _line(self) -> bytes:
        try:
            line = self.file.readline()
        except OSError as failure:
            raise ProviderError(None, f"ManageSieve: {failure}") from None
        if not line:
            raise ProviderError(None, "ManageSieve: the server closed the connection")
        return line

    def _read(self, size: int) -> bytes:
        try:
            return self.file.read(size)
        except OSError as failure:
            raise ProviderError(None, f"ManageSieve: {failure}") from None


def _string(line: str) -> tuple[str, str]:
    """A quoted string at the start of `line` (escapes undone), and the rest of the line."""
    if not line.startswith('"'):
        return line, ""
    out, index = [], 1
    while index < len(line) and line[index] != '"':
        if line[index] == "\\":
            index += 1
        out.append(line[index])
        index += 1
    return "".join(out), line[index + 1 :]
