"""Names, phones and places that look like a real Chinese SMB's, in a fixed random order."""

from __future__ import annotations

import random

from pypinyin import lazy_pinyin

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕鹏辉斌波宁浩凯婷雪琳晨欣怡子涵梓轩宇航思远嘉怡一鸣佳琪"
ENGLISH_FIRST = [
    "Alice",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Ivy",
    "Jack",
    "Kevin",
    "Linda",
    "Michael",
    "Nina",
    "Oscar",
    "Peter",
]
ENGLISH_LAST = [
    "Wong",
    "Chan",
    "Lee",
    "Cheung",
    "Smith",
    "Taylor",
    "Lam",
    "Ng",
    "Ho",
    "Tan",
    "Lim",
    "Brown",
]
CITIES = ["上海", "广州", "北京", "杭州", "深圳", "成都", "南京", "苏州", "武汉", "香港", "台北"]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "199",
]


def chinese_name(rng: random.Random) -> str:
    given_len = 1 if rng.random() < 0.35 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(given_len))


def english_name(rng: random.Random) -> str:
    return f"{rng.choice(ENGLISH_FIRST)} {rng.choice(ENGLISH_LAST)}"


def pinyin_username(name: str) -> str:
    return "".join(lazy_pinyin(name)).lower()


def mobile_number(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
