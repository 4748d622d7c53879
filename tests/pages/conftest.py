"""Browser tests: each page driven in headless Chromium (Debian's package, through
Playwright's ``executable_path``) against a real stack over real HTTP on the suite's node.

A missing browser fails these tests (it never skips them): `make test` installs Debian's
chromium; GOVCHAIN_CHROMIUM points at another executable. Screenshots go to
test-artifacts/pages/<name>.png.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account
from playwright.sync_api import Browser, Page, sync_playwright

from identity import siwe
from tests.support.flows import issued_application

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "pages"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def pytest_configure(config):
    config.addinivalue_line("markers", "pages: the web pages' tests (a whole stack, and Chromium for most); not re-run on anvil")


def chromium_executable() -> str:
    path = os.environ.get("GOVCHAIN_CHROMIUM") or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"no Chromium at {path}: `make test` installs Debian's chromium package (delete .venv/.browser-installed if it went missing since), or set GOVCHAIN_CHROMIUM to a Chromium executable"
        )
    return path


@pytest.fixture(scope="package")
def browser() -> Browser:
    executable = chromium_executable()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Problems:
    """What went wrong inside the page: uncaught errors and Content-Security-Policy refusals."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", lambda message: "Content Security Policy" in message.text and self.errors.append(f"CSP: {message.text}"))


@pytest.fixture
def page(browser, stack):
    """A fresh browser context (own sessionStorage) on the stack's origin."""
    context = browser.new_context(base_url=stack.api.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    problems = Problems()
    problems.watch(opened)
    yield opened
    context.close()
    assert not problems.errors, problems.errors


class Wallet:
    """An EIP-1193 wallet injected into the page: ``window.ethereum.request`` calls back into
    Python, which signs with eth-account. The page never holds the key; the test sees every
    request the page made."""

    def __init__(self, page: Page, account):
        self.account, self.requests = account, []
        page.expose_function("govchainTestWallet", self._request)
        page.add_init_script("window.ethereum = { isGovchainTestWallet: true, request: ({ method, params }) => window.govchainTestWallet(method, params || []) };")

    def _request(self, method: str, params: list):
        self.requests.append((method, params))
        if method in ("eth_requestAccounts", "eth_accounts"):
            return [self.account.address]
        if method == "personal_sign":
            message, address = params
            assert address.lower() == self.account.address.lower(), f"asked to sign for {address}, holding {self.account.address}"
            return siwe.sign(bytes.fromhex(message.removeprefix("0x")).decode("utf-8"), self.account.key)
        if method == "eth_signTypedData_v4":
            address, typed = params
            assert address.lower() == self.account.address.lower(), f"asked to sign for {address}, holding {self.account.address}"
            return "0x" + bytes(Account.sign_typed_data(self.account.key, full_message=json.loads(typed)).signature).hex()
        raise ValueError(f"the test wallet does not support {method}")

    def methods(self) -> list[str]:
        return [method for method, _ in self.requests]


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Issued:
    """A finished no-visit application: face check, consent, pulls, materials, approval, certificate."""

    applicant: object
    headers: dict
    application: dict
    receipt: dict
    certificate: dict
    document: dict


@pytest.fixture(scope="package")
def issued(stack, parties) -> Issued:
    applicant = Account.create()
    me, application, receipt, certificate = issued_application(stack, parties, applicant, citizen=2, delivery={"method": "electronic"})
    document = stack.http.get(f"/v1/certificates/{certificate['id']}/document", headers=me).json()
    return Issued(applicant, me, application, receipt, certificate, document)


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def assert_accessible(page: Page, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """Run axe-core (npm, a test-only devDependency) on the page as it is now and fail on any
    serious or critical violation; returns the minor and moderate ones. The pages' CSP refuses
    inline scripts, so the library is evaluated through DevTools (``page.evaluate``) rather than
    added as a <script> tag: the page itself is left as served."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
            const result = await window.axe.run(context, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
        }""",
        list(exclude),
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core: serious or critical violations on {page.url}: {json.dumps(blocking, ensure_ascii=False, indent=1)}"
    return [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
