"""Every failure answers in the spec's error shapes."""

from __future__ import annotations

from tests.support.api import new_attendee


def test_unknown_route_and_wrong_method(api):
    missing = api.get("/no-such-endpoint")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Resource not found"}
    wrong_method = api.patch("/events")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"error": "Method not allowed"}


def test_malformed_json_and_wrong_content_type(api):
    attendee = new_attendee(api)
    broken = api.post("/bookings", content=b"{not json", headers={**attendee.headers, "Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json() == {"error": "Validation error", "details": {"body": "Malformed JSON"}}
    form = api.post("/auth/login", content=b"email=a&password=b",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 400 and form.json()["error"] == "Validation error"
    not_object = api.post("/auth/login", json=[1, 2, 3])
    assert not_object.status_code == 400 and not_object.json()["error"] == "Validation error"


def test_oversized_body_is_refused(api):
    response = api.post("/auth/register", content=b"{" + b" " * 2_000_000 + b"}",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}


def test_missing_token_is_401_in_error_shape(api):
    for method, path in (("GET", "/bookings"), ("GET", "/profile"), ("POST", "/events"),
                         ("GET", "/facilitator/events"), ("POST", "/auth/refresh")):
        response = api.request(method, path)
        assert response.status_code == 401, path
        assert response.json() == {"error": "Invalid or expired token"}


def test_browser_at_root_is_sent_to_the_ui(api):
    response = api.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 307
    assert response.headers["location"] == "/app/"


def test_security_headers_and_no_cors_for_strangers(api):
    response = api.get("/events", headers={"Origin": "https://evil.example"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get("access-control-allow-origin") not in ("*", "https://evil.example")


def test_openapi_describes_every_documented_endpoint(api):
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in (("/auth/register", "post"), ("/auth/login", "post"), ("/auth/refresh", "post"),
                         ("/events", "get"), ("/events", "post"), ("/events/{event_id}", "get"),
                         ("/events/{event_id}", "put"), ("/events/{event_id}", "delete"),
                         ("/bookings", "post"), ("/bookings", "get"), ("/bookings/{booking_id}", "get"),
                         ("/bookings/{booking_id}/cancel", "post"), ("/facilitator/events", "get"),
                         ("/facilitator/events/{event_id}/bookings", "get"),
                         ("/facilitator/events/{event_id}/cancel", "post"), ("/profile", "get"),
                         ("/profile", "put"), ("/", "get")):
        assert method in paths.get(path, {}), (method, path)
        assert "200" in paths[path][method]["responses"] or "201" in paths[path][method]["responses"]
    assert api.get("/docs").status_code == 200
