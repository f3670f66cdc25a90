"""WeChat's message push: signatures, both body formats, idempotency."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from app.models import Subscription, User
from tests.helpers import login, user_id

TOKEN = "test-push-token"
TEMPLATE = "TPL_NEW_CASE_PLACEHOLDER"


def _signed(timestamp: str = "1700000000", nonce: str = "n1") -> dict[str, str]:
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def _quota(services: Any, uid: int) -> int | None:
    with services.db.uow() as uow:
        sub = uow.session.scalar(select(Subscription).where(Subscription.user_id == uid))
        return sub.quota if sub else None


def _openid(services: Any, uid: int) -> str:
    with services.db.uow() as uow:
        return uow.session.get(User, uid).openid  # type: ignore[union-attr]


def test_the_server_check_echoes_only_with_a_good_signature(client: Any) -> None:
    good = client.get("/wechat/callback", query_string=_signed() | {"echostr": "hello"})
    assert good.status_code == 200 and good.get_data(as_text=True) == "hello"
    bad = client.get("/wechat/callback", query_string=_signed() | {"signature": "0" * 40, "echostr": "x"})
    assert bad.status_code == 403
    assert (
        client.post("/wechat/callback", data="<xml/>", query_string={"signature": "bad"}).status_code == 403
    )


def test_a_json_popup_event_with_one_template_as_an_object_grants_quota_once(
    client: Any, services: Any
) -> None:
    headers = login(client, "push1")
    uid = user_id(client, headers)
    push = {
        "ToUserName": "gh_x",
        "FromUserName": _openid(services, uid),
        "CreateTime": 1700000001,
        "MsgType": "event",
        "Event": "subscribe_msg_popup_event",
        "List": {"TemplateId": TEMPLATE, "SubscribeStatusString": "accept", "PopupScene": "0"},
    }
    for _ in range(3):  # WeChat retries a push three times
        answer = client.post("/wechat/callback", data=json.dumps(push), query_string=_signed())
        assert answer.status_code == 200 and answer.get_data(as_text=True) == "success"
    assert _quota(services, uid) == 1


def test_an_xml_popup_event_with_several_templates(client: Any, services: Any) -> None:
    headers = login(client, "push2")
    uid = user_id(client, headers)
    xml = f"""<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[{_openid(services, uid)}]]></FromUserName>
<CreateTime>1700000002</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>
<SubscribeMsgPopupEvent>
<List><TemplateId><![CDATA[{TEMPLATE}]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>
<List><TemplateId><![CDATA[unknown]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List>
</SubscribeMsgPopupEvent></xml>"""
    answer = client.post("/wechat/callback", data=xml, query_string=_signed(), content_type="text/xml")
    assert answer.get_data(as_text=True) == "success"
    assert _quota(services, uid) == 1
