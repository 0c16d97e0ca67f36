"""The delegate import accepts the documented format and explains what it refuses."""

from __future__ import annotations

from bot.domain.importing import RowError, parse_delegate_csv
from bot.domain.models import Role

HEADER = "external_id,name,organization,country,language,role,offer,need,meeting_languages,consent"
ROW_A = "A1,Anna Petrova,Tomsk Polytechnic,RU,ru,university,Тепловые насосы,,ru en,yes"
ROW_B = "B2,Li Wei,Shenzhen Solar,CN,zh-CN,company,光伏组件,寻求投资,zh,no"


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    data = "\r\n".join(lines).encode("utf-8")
    return (b"\xef\xbb\xbf" if bom else b"") + data


def test_valid_file_with_bom() -> None:
    result = parse_delegate_csv(csv_bytes(HEADER, ROW_A, ROW_B, bom=True))
    assert result.ok and result.errors == ()
    a, b = result.delegates
    assert (a.external_id, a.line, a.country, a.language, a.role) == (
        "A1",
        2,
        "RU",
        "ru",
        Role.UNIVERSITY,
    )
    assert a.meeting_languages == ("ru", "en")
    assert a.consent is True and a.need == ""
    assert (b.language, b.language_tag, b.consent) == ("zh", "zh-CN", False)


def test_columns_in_any_order_and_unknown_columns_ignored() -> None:
    data = csv_bytes(
        "Role,badge_color,Language,Country,Organization,Name,External_ID,email,telegram_username",
        "investor,red,ko,KR,Daejeon Ventures,Kim Min,K9,kim@example.kr,@kim_min",
    )
    (d,) = parse_delegate_csv(data).delegates
    assert (d.external_id, d.role, d.email, d.telegram_username) == (
        "K9",
        Role.INVESTOR,
        "kim@example.kr",
        "kim_min",
    )
    assert d.meeting_languages == ("ko",)  # defaults to the delegate's language
    assert d.consent is False  # no column, no consent


def test_missing_required_column_imports_nothing() -> None:
    result = parse_delegate_csv(csv_bytes("external_id,name,organization,language,role", ROW_A))
    assert not result.ok
    assert result.file_error is not None and "country" in result.file_error
    assert result.delegates == ()


def test_wrong_header_is_a_file_error() -> None:
    result = parse_delegate_csv(csv_bytes(ROW_A, ROW_B))
    assert not result.ok and result.delegates == ()


def test_semicolon_separated_file_is_explained() -> None:
    result = parse_delegate_csv(csv_bytes(HEADER.replace(",", ";"), ROW_A.replace(",", ";")))
    assert result.file_error is not None and "semicolon" in result.file_error


def test_empty_file() -> None:
    assert parse_delegate_csv(b"").file_error == "The file is empty."
    assert parse_delegate_csv(b"\xef\xbb\xbf \r\n").file_error == "The file is empty."


def test_wrong_encoding_is_one_file_error() -> None:
    data = (HEADER + "\r\n" + ROW_A).encode("cp1251")
    result = parse_delegate_csv(data)
    assert result.file_error is not None and "UTF-8" in result.file_error
    assert result.delegates == () and result.errors == ()
    assert parse_delegate_csv(HEADER.encode("utf-16")).file_error is not None


def test_bad_values_are_row_errors_with_spreadsheet_line_numbers() -> None:
    result = parse_delegate_csv(
        csv_bytes(
            HEADER,
            ROW_A,
            "X1,Bad Country,Org,XX,en,company,,,,yes",
            "X2,Bad Language,Org,GB,fr,company,,,,yes",
            "X3,Bad Role,Org,GB,en,startup,,,,yes",
            "X4,Bad Consent,Org,GB,en,company,,,,maybe",
            "X5,,Org,GB,en,company,,,,yes",
            ROW_B,
        )
    )
    assert [d.external_id for d in result.delegates] == ["A1", "B2"]
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "country"),
        (4, "language"),
        (5, "role"),
        (6, "consent"),
        (7, "name"),
    ]


def test_contacts_are_checked() -> None:
    header = "external_id,name,organization,country,language,role,email,phone"
    result = parse_delegate_csv(
        csv_bytes(
            header,
            "C1,Ok Person,Org,AE,ar,agency,ok@example.ae,+971 4 123 4567",
            "C2,Bad Mail,Org,AE,ar,agency,not-an-address,",
            "C3,Bad Phone,Org,AE,ar,agency,,call me",
        )
    )
    assert [d.phone for d in result.delegates] == ["+97141234567"]
    assert [(e.line, e.column) for e in result.errors] == [(3, "email"), (4, "phone")]


def test_duplicate_external_id_fails_the_later_row() -> None:
    result = parse_delegate_csv(csv_bytes(HEADER, ROW_A, ROW_A.replace("Anna", "Anya")))
    assert [d.name for d in result.delegates] == ["Anna Petrova"]
    assert result.errors == (
        RowError(3, "duplicate external_id (first used on row 2)", "external_id"),
    )


def test_ten_megabyte_cell_is_a_row_error() -> None:
    huge = "x" * 10_000_000
    result = parse_delegate_csv(
        csv_bytes(HEADER, f"H1,Huge,Org,GB,en,company,{huge},,,yes", ROW_A, ROW_B)
    )
    assert [d.external_id for d in result.delegates] == ["A1", "B2"]
    assert len(result.errors) == 1 and result.errors[0].line == 2


def test_quoted_cells_with_commas_and_line_breaks() -> None:
    result = parse_delegate_csv(
        csv_bytes(
            HEADER,
            'Q1,"Chen, Jie",Org,CN,zh,institute,"光伏组件,\n逆变器",,,yes',
            ROW_A,
        )
    )
    q, a = result.delegates
    assert q.name == "Chen, Jie" and q.offer == "光伏组件, 逆变器"
    assert a.line == 3  # one spreadsheet row per record, however many text lines it spans


def test_unquoted_comma_in_text_is_explained() -> None:
    result = parse_delegate_csv(csv_bytes(HEADER, ROW_A + ",extra,cells"))
    assert result.delegates == ()
    assert result.errors[0].line == 2 and "comma" in result.errors[0].reason


def test_blank_lines_are_skipped() -> None:
    result = parse_delegate_csv(csv_bytes(HEADER, ROW_A, "", ",,,,,,,,,", ROW_B, ""))
    assert [d.line for d in result.delegates] == [2, 5]
    assert result.errors == ()


def test_an_interpreter_is_a_role_of_the_import() -> None:
    row = "I1,Zara Ahmed,Free Lance,AE,ar,interpreter,,,ar en ru,yes"
    result = parse_delegate_csv(csv_bytes(HEADER, row))
    assert result.ok and result.errors == ()
    assert result.delegates[0].role is Role.INTERPRETER
