# -*- test-case-name: tests.test_control -*-
"""
The management service: Perspective Broker behind C{twisted.cred}.

A client logs in (L{exsim.client}) and gets a L{avatar.ControlAvatar}
whose C{perspective_<operation>} methods are the management operations of
L{exsim.service.Simulator}.  Nothing is reachable before login.
"""

#: Every management operation, in the order docs/api.rst lists them (the page
#: is generated from this table and the methods of exsim.service.Simulator).
OPERATIONS = (
    "create_engine",
    "delete_engine",
    "set_engine_property",
    "create_endpoint",
    "set_protocol_property",
    "start_endpoint",
    "get_endpoint_address",
    "delete_endpoint",
    "create_book",
    "set_book_property",
    "get_book",
    "delete_book",
    "load_instruments",
    "create_order",
    "set_order_property",
    "submit_order",
    "delete_order",
    "create_quote",
    "set_quote_property",
    "submit_quote",
    "delete_quote",
    "match_orders",
    "cancel_all",
    "end_of_day",
    "accept_order",
    "reject_order",
    "fill_order",
    "cancel_order",
    "accept_cancel",
    "reject_cancel",
    "accept_replace",
    "reject_replace",
    "add_policy_rule",
    "list_policy_rules",
    "clear_policy_rules",
    "quote_rfq",
    "decline_rfq",
    "list_sessions",
    "disconnect_session",
    "logout_session",
    "send_raw",
    "inject_fault",
    "set_session_property",
    "get_events",
    "peek_events",
    "list_engines",
    "list_books",
    "list_endpoints",
    "get_properties",
    "list_orders",
    "get_order",
    "get_messages",
    "start_web",
)
