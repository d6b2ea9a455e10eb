def test_request_ticket_is_created_and_submitted(factories):
    ticket = factories.request_ticket()
    assert ticket.status == "new"
    assert ticket.short_code.startswith("AST-")
