"""HTTPS and the browser's security headers.

With DEBUG off, a deployment serves over HTTPS (itself, or behind a proxy that terminates TLS and
sets X-Forwarded-Proto): plain-HTTP requests are redirected, cookies are sent only over HTTPS, and
HSTS tells browsers to stay there. `manage.py check --deploy` is clean with these. HTTPS_ONLY=0
turns the HTTPS part off for plain HTTP on a trusted network (the bench, the tests' live servers);
never where the internet can reach it. `make run` (DEBUG on) serves plain HTTP on 127.0.0.1."""

from csp.constants import NONE, SELF, UNSAFE_INLINE

from memsite.env import env_bool, env_int
from memsite.settings.base import DEBUG

HTTPS_ONLY = env_bool("HTTPS_ONLY", not DEBUG)

SECURE_SSL_REDIRECT = HTTPS_ONLY
# Load balancers probe and Prometheus scrapes over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
# Only behind a proxy that sets this header itself (and drops one sent by a client).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS_ONLY else 0, minimum=0)
# Every subdomain of the site's domain must be HTTPS too: set these to 0 if some are not.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS_ONLY)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS_ONLY)

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content Security Policy (django-csp): scripts only from this site's own static files (the pages
# keep chart data in <script type="application/json">, which is data, not code), no plugins, no
# framing, forms post only here. Styles may be inline: Plotly writes <style> elements and style
# attributes as it draws (no nonce or hash option), and refusing them breaks its charts' toolbar.
# No script ever runs inline; the browser tests fail on any policy violation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
