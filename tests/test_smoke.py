def test_health_answers_documented_json(api):
    response = api.get("/")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Booking System API is running!"
    assert body["status"] == "healthy"
    assert "T" in body["timestamp"]
