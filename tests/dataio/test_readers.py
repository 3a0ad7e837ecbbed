"""Readers: encodings, delimiters, XLSX, vCard 3.0/4.0 (and Android's QUOTED-PRINTABLE),
header guessing."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from kehu.customers.importers import FIELDS
from kehu.dataio import readers
from kehu.dataio.registry import guess_mapping
from kehu.dataio.values import parse_date, split_list
from tests.dataio.helpers import csv_bytes

ROWS = [["姓名", "手机", "城市"], ["张三", "13812345678", "上海"], ["李娜", "13912345678", "北京"]]


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_encodings_are_detected_and_read(tmp_path, encoding, expected):
    rows = [*ROWS, ["𠀀王", "13712345678", "深圳"]] if encoding == "gb18030" else ROWS
    path = _write(tmp_path, "a.csv", csv_bytes(rows, encoding=encoding))
    found = readers.check_content(path, "csv")
    assert found == expected
    assert readers.headers(path, "csv", found) == ["姓名", "手机", "城市"]
    got = list(readers.rows(path, "csv", found))
    assert got[0] == (2, {"姓名": "张三", "手机": "13812345678", "城市": "上海"})
    assert readers.count(path, "csv", found) == len(rows) - 1
    if encoding == "gb18030":
        assert got[2][1]["姓名"] == "𠀀王"


def test_detection_reads_only_the_first_bytes_and_never_guesses(tmp_path):
    assert readers.detect_encoding("张三".encode()[:-1]) == "utf-8"  # cut character is fine
    with pytest.raises(readers.FileProblem):
        readers.detect_encoding(b"\xff\xfe\x00a")  # UTF-16
    with pytest.raises(readers.FileProblem):
        readers.detect_encoding(b"\x80\x80\x80\xff")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(tmp_path, delimiter):
    path = _write(tmp_path, "a.csv", csv_bytes(ROWS, delimiter=delimiter))
    assert list(readers.rows(path, "csv", "utf-8"))[1][1]["城市"] == "北京"


def test_blank_rows_skipped_resume_point_counts_data_rows(tmp_path):
    data = csv_bytes([ROWS[0], ROWS[1], ["", "", ""], ROWS[2]])
    path = _write(tmp_path, "a.csv", data)
    assert [n for n, _row in readers.rows(path, "csv", "utf-8")] == [2, 4]
    assert [n for n, _row in readers.rows(path, "csv", "utf-8", start_after=1)] == [4]


def test_content_must_match_the_name(tmp_path):
    path = _write(tmp_path, "a.xlsx", b"name,phone\n")
    with pytest.raises(readers.FileProblem):
        readers.check_content(path, "xlsx")
    path = _write(tmp_path, "a.vcf", b"name,phone\n")
    with pytest.raises(readers.FileProblem):
        readers.check_content(path, "vcf")
    path = _write(tmp_path, "a.csv", b"\x00\x01binary")
    with pytest.raises(readers.FileProblem):
        readers.check_content(path, "csv")
    with pytest.raises(readers.FileProblem):
        readers.format_for("evil.exe")


def test_xlsx_first_sheet_dates_and_numbers(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["客户名称", "手机号", "生日", "金额", "时间"])
    sheet.append(["张三", 13812345678, date(1990, 3, 15), 12.5, datetime(2024, 1, 2, 3, 4, 5)])
    sheet.append([None, None, None, None, None])
    sheet.append(["李娜", "139 1234 5678", datetime(1985, 1, 2), 3.0, None])
    book.create_sheet("other").append(["ignored"])
    path = tmp_path / "a.xlsx"
    book.save(path)
    assert readers.check_content(path, "xlsx") == ""
    rows = list(readers.rows(path, "xlsx", ""))
    assert rows[0] == (
        2,
        {"客户名称": "张三", "手机号": "13812345678", "生日": "1990-03-15", "金额": "12.5",
         "时间": "2024-01-02 03:04:05"},
    )  # fmt: skip
    assert rows[1][0] == 4
    assert rows[1][1]["生日"] == "1985-01-02" and rows[1][1]["金额"] == "3"
    assert readers.count(path, "xlsx", "") == 2


VCARD_3 = """BEGIN:VCARD\r
VERSION:3.0\r
N:张;三;;;\r
FN:张三\r
ORG:腾讯科技;市场部\r
TITLE:经理\r
TEL;TYPE=CELL:138 1234 5678\r
TEL;TYPE=WORK,VOICE:010-6552 9988\r
EMAIL;TYPE=INTERNET:zhangsan@example.cn\r
ADR;TYPE=WORK:;;科技园路1号;深圳;广东;518000;中国\r
BDAY:1990-03-15\r
NOTE:老客户\\n喜欢喝茶，\r
 续行\r
END:VCARD\r
"""
VCARD_4 = """BEGIN:VCARD
VERSION:4.0
FN:李娜
N:李;娜;;;
TEL;VALUE=uri;TYPE="cell,voice":tel:+86-139-1234-5678
EMAIL:lina@example.com
BDAY:--0315
END:VCARD
BEGIN:VCARD
VERSION:4.0
FN:John Smith
TEL;TYPE=home:+852 9123 4567
END:VCARD
"""
# Android's export: vCard 2.1 style QUOTED-PRINTABLE with soft line breaks.
VCARD_QP = """BEGIN:VCARD
VERSION:3.0
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E7=8E=8B;=E4=BA=94;;;
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E7=8E=8B=E4=BA=94=E5=85=88=E7=94=9F=E7=9A=84=E9=95=BF=E5=90=8D=
=E5=AD=97
TEL;CELL:13712345678
END:VCARD
"""


def test_vcard_3_with_folding_types_address(tmp_path):
    path = _write(tmp_path, "a.vcf", VCARD_3.encode())
    assert readers.check_content(path, "vcf") == "utf-8"
    ((number, row),) = list(readers.rows(path, "vcf", "utf-8"))
    assert number == 1
    assert row["name"] == "张三"
    assert row["company"] == "腾讯科技 市场部"
    assert row["title"] == "经理"
    assert row["mobile"] == "138 1234 5678"
    assert row["phone"] == "010-6552 9988"
    assert row["email"] == "zhangsan@example.cn"
    assert (row["province"], row["city"], row["street"]) == ("广东", "深圳", "科技园路1号")
    assert row["birthday"] == "1990-03-15"
    assert row["notes"] == "老客户\n喜欢喝茶，续行"


def test_vcard_4_several_cards_and_uri_tel(tmp_path):
    path = _write(tmp_path, "a.vcf", VCARD_4.encode("utf-8-sig"))
    encoding = readers.check_content(path, "vcf")
    rows = [row for _n, row in readers.rows(path, "vcf", encoding)]
    assert [r["name"] for r in rows] == ["李娜", "John Smith"]
    assert rows[0]["mobile"] == "+86-139-1234-5678"
    assert rows[0]["birthday"] == "--0315"
    assert rows[1]["phone"] == "+852 9123 4567"
    assert readers.count(path, "vcf", encoding) == 2


def test_vcard_quoted_printable_with_soft_breaks(tmp_path):
    path = _write(tmp_path, "a.vcf", VCARD_QP.encode())
    ((_n, row),) = list(readers.rows(path, "vcf", "utf-8"))
    assert row["name"] == "王五先生的长名字"
    assert row["mobile"] == "13712345678"


def test_vcard_in_gbk(tmp_path):
    path = _write(tmp_path, "a.vcf", VCARD_3.encode("gbk"))
    encoding = readers.check_content(path, "vcf")
    assert encoding == "gb18030"
    assert next(readers.rows(path, "vcf", encoding))[1]["name"] == "张三"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["姓名", "手机", "邮箱", "微信"], ["name", "mobile", "email", "wechat"]),
        (["客户名称", "移动电话", "电子邮件", "单位"], ["name", "mobile", "email", "company"]),
        (["Name", "Mobile", "E-mail", "Company"], ["name", "mobile", "email", "company"]),
        (["名称", "手机号", "电话", "省份", "城市", "区县", "详细地址"],
         ["name", "mobile", "phone", "province", "city", "district", "street"]),
        (["出生日期", "性别", "来源", "标签", "备注", "行业", "统一社会信用代码", "职位"],
         ["birthday", "gender", "source", "tags", "notes", "industry", "credit_code", "title"]),
        (["客户手机号码", "联系人", "联系人电话", "无关列"],
         ["mobile", "contact_name", "contact_mobile", ""]),
        (["name", "phone", "province", "city", "street"],
         ["name", "mobile", "province", "city", "street"]),
    ],
)  # fmt: skip
def test_header_guessing(headers, expected):
    mapping = guess_mapping(headers, FIELDS)
    assert [mapping[h] for h in headers] == expected


def test_date_and_list_values():
    assert parse_date("2024/3/5") == date(2024, 3, 5)
    assert parse_date("2024年3月5日") == date(2024, 3, 5)
    assert parse_date("2024-03-05 10:00:00") == date(2024, 3, 5)
    assert parse_date("20240305") == date(2024, 3, 5)
    assert parse_date("") is None
    with pytest.raises(ValueError):
        parse_date("next tuesday")
    with pytest.raises(ValueError):
        parse_date("2024-02-30")
    assert split_list("VIP, 展会2026；老客户、VIP") == ["VIP", "展会2026", "老客户"]
