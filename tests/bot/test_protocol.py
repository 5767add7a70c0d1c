import pytest

from bot.protocol import Hello, Message, ProtocolError, Typing, parse_frame


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"text": "no type"}', "unknown_type"),
        ('{"type": "message", "text": "no id"}', "invalid_frame"),
        ('{"type": "message", "client_msg_id": "a"}', "invalid_frame"),
        ('{"type": "message", "client_msg_id": "a", "text": 5}', "invalid_frame"),
        ('{"type": "message", "client_msg_id": "", "text": "hi"}', "invalid_frame"),
        ('{"type": "message", "client_msg_id": "a", "text": "   "}', "empty_text"),
        ('{"type": "message", "client_msg_id": "a", "text": "' + "x" * 11 + '"}', "text_too_long"),
        ('{"type": "hello", "conversation_id": null, "resume_token": null, "last_seq": -1}', "invalid_frame"),
        ('{"type": "hello", "conversation_id": null, "resume_token": null}', "invalid_frame"),
    ],
)
def test_bad_frames_get_a_specific_code(raw, code):
    with pytest.raises(ProtocolError) as raised:
        parse_frame(raw, max_text_chars=10)
    assert raised.value.code == code
    frame = raised.value.frame()
    assert frame["type"] == "error" and frame["code"] == code and frame["message"]


def test_valid_frames_parse():
    hello = parse_frame(
        '{"type": "hello", "conversation_id": "c", "resume_token": "t", "last_seq": 4,'
        ' "customer": {"name": "Ada", "attributes": {"plan": "gold"}}}',
        10,
    )
    assert isinstance(hello, Hello) and hello.last_seq == 4 and hello.customer.attributes == {"plan": "gold"}
    message = parse_frame('{"type": "message", "client_msg_id": "m1", "text": "hello"}', 10)
    assert isinstance(message, Message) and message.text == "hello"
    assert isinstance(parse_frame('{"type": "typing"}', 10), Typing)
