"""Traffic for the node-restart and load drills: concurrent clients walking the no-visit path
over real HTTP (sign in, application, face check at the vendor, EIP-712 consent relayed on
chain, the agency's pulls through both gateways) and anyone verifying certificates.

Every answer is sorted: success; declared back-pressure (429 or 503 *with* Retry-After; the
client waits and retries the same step); or an error (anything else, transport errors
included). A 202 (the change recorded, its chain write on its way: the node is slow or away) is
followed by its status URL to its block, as a client does. Accepted writes (consents, released
pulls) are remembered so the drill can look for each of them on chain.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field

import httpx
from eth_account import Account

from identity.dev_citizens import demo_citizen
from identity import pseudonym as pseudonyms, siwe

CODE = "teacher-qualification-primary"
SLOW_SECONDS = 2.0
ACCEPTED_GRACE_SECONDS = 30.0  # how long past the drill's end a client follows a 202's write to its block
STEP_IDS = re.compile(r"(app_|0x)?[0-9a-f]{16,}")  # ids in a path, so that slow answers are counted per step


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    held: int = 0  # 429/503 with Retry-After
    accepted_later: int = 0  # 202s: recorded, the chain write followed by its status URL to its block
    errors: list[str] = field(default_factory=list)
    consents: dict[str, str] = field(default_factory=dict)  # application id -> consent id (accepted)
    released: dict[str, int] = field(default_factory=dict)  # consent id -> pulls released to the agency
    verified: int = 0
    cycles: int = 0
    started: float = field(default_factory=time.perf_counter)
    ended: float = 0.0
    marks: list[tuple[float, str]] = field(default_factory=list)
    slow: dict[str, int] = field(default_factory=dict)  # step -> answers slower than SLOW_SECONDS (where a high p99 comes from)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def figures(self) -> dict:
        lat = sorted(self.latencies)
        seconds = (self.ended or time.perf_counter()) - self.started

        def pct(p: float) -> float:
            return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else 0.0

        return {
            "requests": self.requests, "rate_per_s": round(self.requests / seconds, 1) if seconds else 0, "p50_ms": pct(0.50),
            "p99_ms": pct(0.99), "held_503_429": self.held, "accepted_202": self.accepted_later, "errors": len(self.errors), "consents": len(self.consents),
            "pulls_released": sum(self.released.values()), "verifications": self.verified, "cycles": self.cycles,
        }  # fmt: skip


class Backpressure(Exception):
    pass


class Traffic:
    def __init__(self, api_url: str, vendor_url: str, vendor_key: str, agency_headers: dict, target_hashes: list[str], *, seed: int = 0):
        self.api_url, self.vendor_url, self.vendor_key = api_url, vendor_url, vendor_key
        self.agency = agency_headers
        self.targets = target_hashes
        self.tally = Tally()
        self.rng = random.Random(seed)

    async def call(self, http: httpx.AsyncClient, method: str, url: str, ok: tuple[int, ...], deadline: float, **kwargs) -> httpx.Response | None:
        """One step, retried while the server says "busy, retry later"; None when time is up."""
        while True:
            started = time.perf_counter()
            try:
                response = await http.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                self.tally.latencies.append(time.perf_counter() - started)
                self.tally.errors.append(f"{method} {url.split('?')[0][-60:]}: {type(exc).__name__} {exc}")
                return None
            self.tally.latencies.append(time.perf_counter() - started)
            if self.tally.latencies[-1] > SLOW_SECONDS:
                step = f"{method} {STEP_IDS.sub('{id}', url.split('?')[0].split('/', 3)[-1])} {response.status_code}"
                self.tally.slow[step] = self.tally.slow.get(step, 0) + 1
            self.tally.statuses[response.status_code] = self.tally.statuses.get(response.status_code, 0) + 1
            if response.status_code in ok:
                return response
            if response.status_code in (429, 503) and "retry-after" in response.headers:
                self.tally.held += 1
                if time.monotonic() > deadline:
                    return None
                # honour Retry-After, capped and jittered so a short drill still exercises the recovery
                await asyncio.sleep(min(float(response.headers["retry-after"]), 1.0) * self.rng.uniform(0.5, 1.0))
                continue
            self.tally.errors.append(f"{method} {url.split('?')[0][-60:]}: {response.status_code} {response.text[:200]}")
            return None

    async def written(self, http: httpx.AsyncClient, status_url: str, until: float, headers: dict) -> bool:
        """Follow a 202's status URL, as a client does, until the write is mined (True) or failed."""
        self.tally.accepted_later += 1
        while time.monotonic() < until:
            answer = await self.call(http, "GET", status_url, (200,), until, headers=headers)
            if answer is None:
                return False
            state = answer.json()["status"]
            if state == "mined":
                return True
            if state == "failed":
                self.tally.errors.append(f"accepted write {status_url.rsplit('/', 1)[-1]} failed: {answer.json()['error']}")
                return False
            await asyncio.sleep(0.5)
        self.tally.errors.append(f"accepted write {status_url.rsplit('/', 1)[-1]} not mined within {ACCEPTED_GRACE_SECONDS} s of the end")
        return False

    async def client(self, http: httpx.AsyncClient, index: int, deadline: float, verify_only: bool = False) -> None:
        while time.monotonic() < deadline:
            ok = await (self.verify(http, deadline) if verify_only else self.cycle(http, index, deadline))
            if not ok:
                await asyncio.sleep(0.05)

    async def verify(self, http: httpx.AsyncClient, deadline: float) -> bool:
        if not self.targets:
            return False
        target = self.rng.choice(self.targets)
        answer = await self.call(http, "GET", f"{self.api_url}/v1/verify/{target}", (200,), deadline)
        if answer is None:
            return False
        body = answer.json()
        if body.get("valid") is not True:
            self.tally.errors.append(f"verification of {target} says {body}")
            return False
        self.tally.verified += 1
        return True

    async def cycle(self, http: httpx.AsyncClient, index: int, deadline: float) -> bool:
        """One applicant: sign in, apply, face check, consent; the agency pulls; two verifications."""
        applicant = Account.create()
        citizen = demo_citizen(1 + self.rng.randrange(2000))
        api = self.api_url
        challenge = await self.call(http, "POST", f"{api}/v1/auth/challenge", (201,), deadline, json={"address": applicant.address})
        if challenge is None:
            return False
        message = challenge.json()["message"]
        token = await self.call(http, "POST", f"{api}/v1/auth/token", (200,), deadline, json={"message": message, "signature": siwe.sign(message, applicant.key)})
        if token is None:
            return False
        me = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = await self.call(http, "POST", f"{api}/v1/applications", (201,), deadline, json={"code": CODE}, headers=me)
        if created is None:
            return False
        application_id = created.json()["id"]
        started = await self.call(http, "POST", f"{api}/v1/applications/{application_id}/face-verification", (201,), deadline,
                                  json={"name": citizen["name"], "id_number": citizen["id_number"], "outcome": "pass"}, headers=me)  # fmt: skip
        if started is None:
            return False
        vendor = {"Authorization": f"Bearer {self.vendor_key}"}
        session_id = started.json()["session_id"]
        completed = await self.call(http, "POST", f"{self.vendor_url}/v1/sessions/{session_id}/complete", (202,), deadline, headers=vendor)
        if completed is None:
            return False
        if not completed.json()["delivered"]:  # the platform was busy: the vendor delivers the same callback again
            if not await self.redeliver(http, session_id, completed.json(), deadline):
                return False
        terms = f"{api}/v1/applications/{application_id}/consent-terms"
        derivation = await self.call(http, "GET", terms, (200,), deadline, headers=me)
        if derivation is None:
            return False
        pseudonym = pseudonyms.from_derivation(applicant.key, derivation.json()["pseudonym"]).address
        offer = await self.call(http, "GET", terms, (200,), deadline, headers=me, params={"pseudonym": pseudonym})
        if offer is None:
            return False
        signed = pseudonyms.sign_consent_offer(applicant.key, offer.json())
        granted = await self.call(http, "POST", f"{api}/v1/applications/{application_id}/consent", (201, 202), deadline, json=signed, headers=me)
        if granted is None:
            return False
        if granted.status_code == 202:  # recorded, its chain write on its way (the node is slow or away): follow it
            if not await self.written(http, granted.headers["location"], deadline + ACCEPTED_GRACE_SECONDS, me):
                return False
            application = await self.call(http, "GET", f"{api}/v1/applications/{application_id}", (200,), deadline, headers=me)
            if application is None:
                return False
            consent_id = application.json()["consent_id"]
        else:
            consent_id = granted.json()["consent_id"]
        self.tally.consents[application_id] = consent_id
        pulled = await self.call(http, "POST", f"{api}/v1/applications/{application_id}/pulls", (200,), deadline, headers=self.agency)
        if pulled is None:
            return False
        released = [p for p in pulled.json()["pulls"] if p["outcome"] == "released"]
        refused = [p for p in pulled.json()["pulls"] if p["outcome"] != "released"]
        if refused:
            self.tally.errors.append(f"{application_id}: pulls refused {refused}")
        self.tally.released[consent_id] = self.tally.released.get(consent_id, 0) + len(released)
        self.tally.cycles += 1
        for _ in range(2):
            await self.verify(http, deadline)
        return True

    async def redeliver(self, http: httpx.AsyncClient, session_id: str, first: dict, deadline: float) -> bool:
        if first.get("status_code") not in (429, 503):
            self.tally.errors.append(f"face callback for {session_id} not delivered: {first}")
            return False
        vendor = {"Authorization": f"Bearer {self.vendor_key}"}
        last = await self.call(http, "GET", f"{self.vendor_url}/v1/sessions/{session_id}/last-callback", (200,), deadline, headers=vendor)
        if last is None:
            return False
        callback = last.json()
        self.tally.held += 1  # the first delivery was held back
        answer = await self.call(http, "POST", callback["url"], (200, 202, 204), deadline, content=callback["body"].encode(), headers=callback["headers"])
        return answer is not None

    async def run(self, clients: int, seconds: float, verify_clients: int = 0) -> Tally:
        deadline = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=clients + verify_clients + 8, max_keepalive_connections=clients + verify_clients + 8)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            await asyncio.gather(
                *(self.client(http, i, deadline) for i in range(clients)),
                *(self.client(http, clients + i, deadline, verify_only=True) for i in range(verify_clients)),
            )
        self.tally.ended = time.perf_counter()
        return self.tally
