"""What the access logs may show of a query string: the plain split agrees with `parse_qsl` on
every query it takes, and secrets are redacted by name and by shape."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from api.web.redaction import REDACTED, _plain_pairs, redact_query, redact_uri

#: Query text without ``%`` or ``+``: what the plain split takes (``&`` and ``=`` often).
PLAIN_QUERY = st.text(alphabet=st.sampled_from("ab=&;?/._~-zm0中 "), max_size=40)


@given(PLAIN_QUERY)
def test_the_plain_split_is_parse_qsl_on_queries_with_nothing_to_unquote(query):
    assert _plain_pairs(query) == parse_qsl(query, keep_blank_values=True)


def test_secrets_are_redacted_by_name_and_shape_and_the_rest_kept():
    assert redact_query("lon=120.4&lat=36.3&category=litter") == "lon=120.4&lat=36.3&category=litter"
    assert redact_query("api_key=abc&lon=1") == f"api_key={REDACTED}&lon=1"
    assert redact_query("%61pi_key=abc") == f"api_key={REDACTED}"  # a name hidden by percent-encoding
    assert redact_query("x=zm_secret") == f"x={REDACTED}"
    assert redact_query("q=138+0000") == f"q={REDACTED}"
    assert redact_uri("/login?next=/console?token=abc") == "/login?next=%2Fconsole%3Ftoken%3D***"
