def test_health_answers_on_each_database(api):
    r = api.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
