"""Hostile requests to the live platform API, each refused early and leaving nothing behind
(no row, no blob, no file outside the blob store): upload bombs (a huge declared body, an
endless chunked body without Content-Length, thousands of multipart parts) and path tricks
in file names. Webhook attacks live in tests/e2e/test_applications.py (forged, replayed,
stale, future, malformed, missing header, non-UTF-8, unknown session, oversized); forged
consents and misdirected pulls in tests/chain/test_hostile_consents.py; foreign callers in test_authz_matrix.py."""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from eth_account import Account

from api.dev import samples
from tests.support.flows import upload

BOUNDARY = "hostile"


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.startswith(("platform.db",))}


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.fixture
def draft(stack):
    me = stack.sign_in(Account.create())
    created = stack.http.post("/v1/applications", json={"code": "teacher-qualification-primary"}, headers=me)
    assert created.status_code == 201, created.text
    return me, created.json()["id"]


def nothing_provided(stack, me, application_id) -> bool:
    listing = stack.http.get(f"/v1/applications/{application_id}/materials", headers=me).json()
    return all(m["provided"] is None for m in listing)


def raw_request(stack, head: str, body_chunks, *, max_seconds: float = 60) -> tuple[int | None, int]:
    """Send ``head`` then the chunks until the server answers; returns (status, body bytes sent)."""
    url = urlsplit(stack.api.url)
    sent, answer = 0, b""
    deadline = time.monotonic() + max_seconds
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            for chunk in body_chunks:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server has answered: stop sending
                sock.sendall(chunk)
                sent += len(chunk)
                if time.monotonic() > deadline:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            sock.settimeout(30)
            while b"\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except (ConnectionResetError, socket.timeout):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, sent


def upload_head(stack, me, application_id, extra: str) -> str:
    url = urlsplit(stack.api.url)
    return (f"POST /v1/applications/{application_id}/materials HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: {me['Authorization']}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n{extra}\r\n")  # fmt: skip


FIRST_PARTS = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"material\"\r\n\r\nhealth-exam\r\n"
               f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bomb.png\"\r\n\r\n").encode() + samples.png()  # fmt: skip


def test_huge_declared_body_is_refused_before_it_is_read(stack, draft):
    me, application_id = draft
    before = files_under(stack.api.settings.state_dir)
    status, sent = raw_request(stack, upload_head(stack, me, application_id, "Content-Length: 10737418240\r\n"), [FIRST_PARTS] + [b"\0" * 65536] * 200)
    assert status == 413
    assert sent < 8 * 1024 * 1024  # refused on the header; what got out is socket buffers
    assert files_under(stack.api.settings.state_dir) == before and nothing_provided(stack, me, application_id)


def test_endless_chunked_body_is_refused_early_with_bounded_memory(stack, draft):
    me, application_id = draft
    before, rss = files_under(stack.api.settings.state_dir), rss_bytes()

    def endless():
        yield b"%x\r\n%s\r\n" % (len(FIRST_PARTS), FIRST_PARTS)
        block = b"\0" * 65536
        for _ in range(4096):  # 256 MiB if nobody stopped it
            yield b"10000\r\n" + block + b"\r\n"

    status, sent = raw_request(stack, upload_head(stack, me, application_id, "Transfer-Encoding: chunked\r\n"), endless())
    assert status == 413
    assert sent < 48 * 1024 * 1024, f"the server read {sent} bytes before refusing"  # the limit is ~5 MiB (+ socket buffers)
    assert rss_bytes() - rss < 64 * 1024 * 1024  # the API (in this process) never held the whole body
    assert files_under(stack.api.settings.state_dir) == before and nothing_provided(stack, me, application_id)


def test_thousands_of_parts_are_refused(stack, draft):
    me, application_id = draft
    before = files_under(stack.api.settings.state_dir)
    parts = b"".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'.encode() for i in range(5000))
    for body in (parts + FIRST_PARTS + f"\r\n--{BOUNDARY}--\r\n".encode(),
                 FIRST_PARTS + b"".join(f"\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{i}.png\"\r\n\r\nx".encode() for i in range(3000)) + f"\r\n--{BOUNDARY}--\r\n".encode()):  # fmt: skip
        response = stack.http.post(f"/v1/applications/{application_id}/materials", content=body,
                                   headers={**me, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})  # fmt: skip
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert files_under(stack.api.settings.state_dir) == before and nothing_provided(stack, me, application_id)


TRICKS = [
    "../../../../tmp/govchain-pwned.png", "..\\..\\..\\windows\\system32\\pwned.png", "/etc/passwd", "/proc/self/environ",
    "....//....//pwned.png", "%2e%2e%2f%2e%2e%2fpwned.png", "a/b/../../../pwned.png", "pwned.png\x00.pdf", ".htaccess",
    "..", ".", "", " ", "scan\u202egnp.exe", "con.png", "a" * 5000 + ".png", "扫描件/../../证书.png", "x\r\nContent-Type: text/html\r\n\r\n.png",
    "file:///etc/hosts", "\\\\server\\share\\pwned.png",
]  # fmt: skip


def test_path_tricks_in_file_names_are_defused(stack, draft, tmp_path_factory):
    me, application_id = draft
    state = stack.api.settings.state_dir
    outside = {p: p.exists() for p in (Path("/tmp/govchain-pwned.png"), state.parent / "pwned.png", state / "pwned.png", Path("/pwned.png"))}
    before = files_under(state)
    url = f"/v1/applications/{application_id}/materials"
    for name in TRICKS:
        response = upload(stack, me, application_id, "health-exam", samples.png(seed=len(name)), name)
        if response.status_code == 400:  # refused outright (a nameless part is no file; a 5,000-char header is no multipart)
            assert response.headers["content-type"].startswith("application/problem+json")
            continue
        assert response.status_code == 201, (name, response.text)
        stored = response.json()["filename"]
        assert "/" not in stored and "\\" not in stored and not stored.startswith(".") and "\x00" not in stored, (name, stored)
        assert all(c.isprintable() for c in stored) and len(stored) <= 255, (name, stored)
        assert stack.http.delete(f"{url}/health-exam", headers=me).status_code == 204
    assert {p: p.exists() for p in outside} == outside
    new = files_under(state) - before
    assert all(f.startswith("blobs/") or f.startswith("logs/") for f in new), new
    assert nothing_provided(stack, me, application_id)
