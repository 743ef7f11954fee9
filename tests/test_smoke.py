def test_home_lists_the_library(client, library):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Stuck on the" in response.content
