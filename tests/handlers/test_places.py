"""The region question, as a contact anywhere in China answers it: every kind of place is understood, an ambiguous
or unknown name is asked back with buttons, a place no policy covers ends the interview at once, and a district is
asked for only when a rule of one district depends on it."""

from __future__ import annotations

import pytest

from bot.engine.engine import Engine
from tests.handlers.test_enterprise import button_data, talk, texts  # noqa: F401  (talk is a fixture)

REGION_QUESTION = "贵企业注册在哪里"
OUT_OF_SCOPE = "目前收录的政策都不适用于这个地区"


@pytest.mark.parametrize(
    ("answer", "path"),
    [
        # short names, Traditional characters, pinyin and English
        ("珲春", "吉林省/延边朝鲜族自治州/珲春市"),
        ("長春", "吉林省/长春市"),
        ("Changchun", "吉林省/长春市"),
        ("Jilin Province", "吉林省"),
        # full or partial paths, in any form and with any separator
        ("吉林省吉林市船营区", "吉林省/吉林市/船营区"),
        ("武汉 江岸区", "湖北省/武汉市/江岸区"),
        # a county-level city the province administers directly, with or without its prefecture
        ("吉林省/通化市/梅河口市", "吉林省/通化市/梅河口市"),
        ("吉林省/梅河口市", "吉林省/通化市/梅河口市"),
        # development zones and national new areas given as an address
        ("长春经开区", "吉林省/长春市/长春经济技术开发区"),
        ("长春新区", "吉林省/长春市"),
        ("泰州医药高新区", "江苏省/泰州市/高港区"),
    ],
)
def test_every_kind_of_place_in_a_covered_region_is_understood(talk, answer: str, path: str) -> None:  # noqa: F811
    talk(command="start")
    reply = talk(answer)
    assert talk.state.answers["region"] == path
    assert OUT_OF_SCOPE not in texts(reply) and "不认识" not in texts(reply)


@pytest.mark.parametrize(
    ("answer", "path"),
    [
        ("广州", "广东省/广州市"),
        ("广东省/广州市/天河区", "广东省/广州市/天河区"),
        ("深圳市南山区", "广东省/深圳市/南山区"),
        ("浙江省杭州市余杭区", "浙江省/杭州市/余杭区"),
        ("喀什市", "新疆维吾尔自治区/喀什地区/喀什市"),
        ("湖北省仙桃市", "湖北省/仙桃市"),
        ("成都高新区", "四川省/成都市"),
        ("Guangzhou", "广东省/广州市"),
    ],
)
def test_a_place_no_policy_covers_is_accepted_and_ends_the_interview_after_one_question(
    talk,  # noqa: F811
    answer: str,
    path: str,
) -> None:
    talk(command="start")
    reply = talk(answer)
    assert talk.state.answers["region"] == path
    assert talk.state.current is None  # nothing more is asked
    heard, message = reply.messages
    assert heard.text == f"收到:所在地区 {path.replace('/', '')}"
    assert OUT_OF_SCOPE in message.text
    # It says which regions the shipped policies cover, and the answer can be changed or the interview restarted.
    assert "吉林省" in message.text and "湖北省武汉市" in message.text
    assert button_data(message) == ["e:region", "restart"]
    assert "没有需要回答的问题" in texts(talk("生物药"))
    assert REGION_QUESTION in texts(talk(button="e:region"))
    talk("长春")
    assert talk.state.answers["region"] == "吉林省/长春市" and talk.state.current not in (None, "region")


def test_an_ambiguous_name_is_asked_back_with_a_button_per_place_never_guessed(talk, engine: Engine) -> None:  # noqa: F811
    talk(command="start")
    (message,) = talk("朝阳区").messages
    assert "region" not in talk.state.answers
    assert "可能是以下几个地方" in message.text
    labels = [button.text for row in message.buttons for button in row]
    assert labels[:2] == ["北京市朝阳区", "吉林省长春市朝阳区"]
    # Buttons carry the statistical code, not the path, which may be longer than Telegram's 64 bytes.
    assert button_data(message)[:2] == ["a:region:110105", "a:region:220104"]
    talk(button="a:region:220104")
    assert talk.state.answers["region"] == "吉林省/长春市/朝阳区"


def test_a_long_ambiguous_name_still_fits_telegrams_button_limit(talk) -> None:  # noqa: F811
    talk(command="start")
    _, message = talk("阿合奇").messages  # 新疆维吾尔自治区克孜勒苏柯尔克孜自治州阿合奇县: 69 bytes of path
    assert talk.state.answers["region"] == "新疆维吾尔自治区/克孜勒苏柯尔克孜自治州/阿合奇县"
    talk(button="e:region")
    _, message = talk("新疆").messages  # unique: accepted (read back, then the answer)
    talk(button="e:region")
    (message,) = talk("阿合奇县城").messages
    assert all(len(data.encode()) <= 64 for data in button_data(message))


def test_an_unknown_name_gets_the_nearest_places_as_buttons(talk) -> None:  # noqa: F811
    talk(command="start")
    (message,) = talk("广洲").messages
    assert "不认识“广洲”这个地方" in message.text and "您是不是指" in message.text
    labels = [button.text for row in message.buttons for button in row]
    assert "广东省广州市" in labels
    assert button_data(message)[-1] == "s:region"  # "not sure" stays possible
    talk(button="a:region:4401")
    assert talk.state.answers["region"] == "广东省/广州市"


def test_a_misspelt_district_is_one_tap_from_its_place(talk) -> None:  # noqa: F811
    talk(command="start")
    (message,) = talk("东昌去").messages
    assert "a:region:220502" in button_data(message)
    talk(button="a:region:220502")
    assert talk.state.answers["region"] == "吉林省/通化市/东昌区"


def test_place_buttons_are_in_the_contacts_script(talk) -> None:  # noqa: F811
    talk(command="start", language="zh-tw")
    (message,) = talk("朝陽區").messages
    labels = [button.text for row in message.buttons for button in row]
    assert "吉林省長春市朝陽區" in labels


def test_a_forged_or_stale_place_button_is_refused_politely(talk) -> None:  # noqa: F811
    talk(command="start")
    reply = talk(button="a:region:999999")
    assert reply.messages[0].notice and "region" not in talk.state.answers


def test_a_city_answer_is_asked_its_district_when_a_district_rule_depends_on_it(talk) -> None:  # noqa: F811
    talk(command="start")
    heard, message = talk("泰州市").messages  # the shipped rules of 泰州医药高新区 apply in one district, 高港区
    assert heard.text == "收到:所在地区 江苏省泰州市"
    assert talk.state.answers["region"] == "江苏省/泰州市" and talk.state.current == "region"
    assert "泰州市的部分区县" in message.text
    assert "a:region:321203" in button_data(message) and "k:region" in button_data(message)
    assert "海陵区" in [button.text for row in message.buttons for button in row]
    reply = talk(button="a:region:321203")
    assert talk.state.answers["region"] == "江苏省/泰州市/高港区"
    # Those rules ask nothing more: the results follow, with them.
    assert "区县" not in texts(reply) and "结果(按" in texts(reply) and "相关政策" in texts(reply)
    assert "骨干企业" in texts(reply)  # the 泰州医药高新区 measures, listed apart: nobody applies for them here


def test_a_province_answer_is_asked_its_city_and_then_its_district(talk) -> None:  # noqa: F811
    talk(command="start")
    assert "江苏省的部分区县" in texts(talk("江苏"))
    # Typed in pinyin, Taizhou is 泰州 or 台州 (浙江); inside 江苏省 it can only be 泰州.
    assert "泰州市的部分区县" in texts(talk("Taizhou"))
    talk("高港")
    assert talk.state.answers["region"] == "江苏省/泰州市/高港区"


def test_a_district_outside_every_scope_ends_the_interview(talk) -> None:  # noqa: F811
    talk(command="start")
    talk("泰州")
    reply = talk("海陵区")
    assert talk.state.answers["region"] == "江苏省/泰州市/海陵区"
    assert OUT_OF_SCOPE in texts(reply) and talk.state.current is None


def test_a_contact_who_does_not_know_the_district_keeps_the_city(talk) -> None:  # noqa: F811
    talk(command="start")
    talk("泰州")
    reply = talk(button="k:region")
    assert talk.state.answers["region"] == "江苏省/泰州市"
    # The zone's rules stay open, waiting for the district; the district is not asked again.
    assert "区县" not in texts(reply) and "是否适用取决于:所在地区" in texts(reply)


@pytest.mark.parametrize("answer", ["长春市", "通化市"])
def test_no_district_is_asked_where_no_open_rule_depends_on_it(talk, answer: str) -> None:  # noqa: F811
    # 长春 has no rule of its own; 通化's 东昌区 rules were for 2021 and can no longer change a result.
    talk(command="start")
    reply = talk(answer)
    assert talk.state.current != "region" and "区县" not in texts(reply)


def test_an_answer_far_too_long_for_a_place_is_refused_with_a_hint(talk) -> None:  # noqa: F811
    talk(command="start")
    reply = talk("长" * 4000)
    assert "太长了,不像一个地名" in reply.messages[0].text and "吉林省长春市" in reply.messages[0].text
    assert "region" not in talk.state.answers and talk.state.current == "region"
