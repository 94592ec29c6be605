"""Files people bring from other CRMs: HubSpot, Salesforce and Excel exports round-trip exactly;
their values (stages, sources, owners) are mapped to ours; their ids and created dates are kept;
a second import updates what the first created."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts import imports
from contacts.imports import files, values
from contacts.models import Contact, ImportJob, ImportMode, ImportStatus

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture
def named(rep, manager):
    rep.first_name, rep.last_name = "Rita", "Rep"
    rep.save(update_fields=["first_name", "last_name"])
    manager.first_name, manager.last_name = "Mia", "Manager"
    manager.save(update_fields=["first_name", "last_name"])
    return rep


def upload(client, name: str, content: bytes) -> ImportJob:
    response = client.post(
        reverse("contacts:import-start"), {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.latest("pk")


def map_and_check(client, job: ImportJob, **extra) -> ImportJob:
    data = {"action": "map", "skip_duplicates": "on", "write_mode": "create"}
    data.update({f"column-{i}": t for i, t in job.mapping.items()})
    data.update(extra)
    response = client.post(reverse("contacts:import-detail", args=[job.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    job.refresh_from_db()
    return job


def commit(job: ImportJob, actor) -> ImportJob:
    imports.import_queue(job=job, actor=actor)
    return imports.import_commit(job_id=job.pk, actor=actor)


def rows_of(content: bytes) -> list[list[str]]:
    return list(files.iter_rows(io.BytesIO(content), "csv"))


# --- reading CSV as it is written ----------------------------------------------------------


def test_doubled_quotes_read_as_one_quote_when_the_header_has_no_quotes():
    content = b'Name,Company,Notes\nAda,"The ""Best"" Co",plain\n'
    assert rows_of(content)[1] == ["Ada", 'The "Best" Co', "plain"]


def test_a_formula_cell_does_not_swallow_the_next_cell():
    content = b'Name,Company,City\nAda,"=HYPERLINK(""http://x.example"",""go"")",London\n'
    assert rows_of(content)[1] == ["Ada", '=HYPERLINK("http://x.example","go")', "London"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a;b;c\n1;2;3\n", ["1", "2", "3"]),
        (b"a\tb\n1\t2\n", ["1", "2"]),
        (b'"a,x";b;c\n1;2;3\n', ["1", "2", "3"]),  # a comma inside a quoted header
        (b"sep=;\na;b\n1;2\n", ["1", "2"]),  # Excel's delimiter line is not the header
        (b"name\nAda\n", ["Ada"]),
    ],
)
def test_delimiter_comes_from_the_header_line(content, expected):
    rows = rows_of(content)
    assert rows[-1] == expected
    assert len(rows) == 2


# --- HubSpot ---------------------------------------------------------------------------------


def test_hubspot_export_round_trips(client, named, manager):
    client.force_login(named)
    job = upload(client, "hubspot-contacts.csv", (FILES / "hubspot-contacts.csv").read_bytes())
    assert job.mapping == {
        "0": "external_id", "1": "given_name", "2": "family_name", "3": "email", "4": "owner",
        "5": "lifecycle_stage", "6": "created_at", "7": "phone", "8": "company",
    }  # fmt: skip
    assert job.external_source == "hubspot"
    page = client.get(reverse("contacts:import-detail", args=[job.pk])).content.decode()
    assert "Values in “Lifecycle Stage”" in page
    assert 'name="vm-lifecycle_stage-raw" value="MQL"' in page
    assert "Values in “Contact owner”" in page
    job = map_and_check(client, job)
    assert job.status == ImportStatus.VALID, job.errors
    assert job.value_map["lifecycle_stage"] == {
        "lead": "prospect",
        "subscriber": "prospect",
        "mql": "prospect",
        "sql": "prospect",
    }  # fmt: skip  (Customer is our own label: no mapping needed)
    job = commit(job, named)
    assert job.status == ImportStatus.DONE, job.message
    assert job.created_count == 5
    got = {
        c.external_id: c
        for c in Contact.objects.select_related("company", "owner").prefetch_related("phones")
    }
    expected = {
        "5101": ("Ada", "Lovelace", "ada@analytical.example", named, "prospect",
                 dt.datetime(2023, 4, 5, 9, 15, tzinfo=UTC), "+44 20 7946 0958", 'The "Best" Co'),
        "5102": ("Zoë", "Müller", "zoë@example.com", named, "prospect",
                 dt.datetime(2023, 5, 6, 10, 0, tzinfo=UTC), "", "Müller & Söhne GmbH"),
        "5103": ("Grace", "Hopper", "grace@navy.example", named, "prospect",
                 dt.datetime(2023, 6, 7, tzinfo=UTC), "+1 (555) 010-7788",
                 '=HYPERLINK("http://evil.example","click")'),
        "5104": ("Alan", "Turing", "alan@bletchley.example", manager, "prospect",
                 dt.datetime(2023, 7, 8, 23, 59, tzinfo=UTC), "", "Bletchley, Park & Co"),
        "5105": ("伟", "张", "zhang.wei@example.cn", named, "customer",
                 dt.datetime(2023, 8, 9, 8, 0, tzinfo=UTC), "+86 138 1234 5678",
                 "郑州宇通物流有限公司"),
    }  # fmt: skip
    assert set(got) == set(expected)
    for record_id, (
        given,
        family,
        email,
        owner,
        stage,
        created,
        phone,
        company,
    ) in expected.items():
        c = got[record_id]
        assert (c.given_name, c.family_name, c.primary_email) == (given, family, email)
        assert (c.owner, c.team_id) == (owner, owner.team_id)
        assert c.lifecycle_stage == stage
        assert c.created_at == created
        assert c.primary_phone == phone
        assert c.company.name == company
        assert c.external_source == "hubspot"
    assert got["5105"].display_name == "张伟"


def test_hubspot_owner_and_value_choices_of_the_user_win(client, named, manager):
    client.force_login(named)
    job = upload(client, "hubspot-contacts.csv", (FILES / "hubspot-contacts.csv").read_bytes())
    job = map_and_check(
        client,
        job,
        **{
            "vm-lifecycle_stage-raw": ["Lead", "MQL"],
            "vm-lifecycle_stage": ["customer", ""],
            "vm-owner-raw": ["Rita Rep"],
            "vm-owner": [str(manager.pk)],
        },
    )
    job = commit(job, named)
    ada = Contact.objects.get(external_id="5101")
    grace = Contact.objects.get(external_id="5103")
    zhang = Contact.objects.get(external_id="5105")
    assert (ada.lifecycle_stage, ada.owner) == ("customer", manager)
    assert zhang.owner == manager  # same owner value, same mapping
    assert grace.lifecycle_stage == "prospect"  # mapped to empty: the default stage


def test_an_owner_nobody_matches_is_a_row_error_when_asked(client, named):
    client.force_login(named)
    content = (FILES / "hubspot-contacts.csv").read_bytes().replace(b"Mia Manager", b"Nobody")
    job = upload(client, "hubspot.csv", content)
    job = map_and_check(client, job, unknown_owner="error")
    assert job.status == ImportStatus.INVALID
    assert [(e["row"], e["message"]) for e in job.errors] == [
        (5, "No user “Nobody” you may assign.")
    ]
    job = map_and_check(client, job, unknown_owner="default")
    assert job.status == ImportStatus.VALID
    commit(job, named)
    assert Contact.objects.get(external_id="5104").owner == named


def test_an_owner_the_importer_may_not_assign_is_not_matched(client, named, rep_other_team):
    client.force_login(named)
    content = (
        (FILES / "hubspot-contacts.csv")
        .read_bytes()
        .replace(b"Mia Manager", rep_other_team.email.encode())
    )
    job = upload(client, "hubspot.csv", content)
    job = map_and_check(client, job, unknown_owner="error")
    assert job.status == ImportStatus.INVALID
    response = client.post(
        reverse("contacts:import-detail", args=[job.pk]),
        {"action": "map", "column-3": "email", "vm-owner-raw": ["x"],
         "vm-owner": [str(rep_other_team.pk)], "column-4": "owner"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Pick owners from the list" in response.content.decode()


# --- Salesforce ------------------------------------------------------------------------------


def test_salesforce_export_round_trips(client, named):
    client.force_login(named)
    job = upload(
        client, "salesforce-contacts.csv", (FILES / "salesforce-contacts.csv").read_bytes()
    )
    assert job.mapping == {
        "0": "external_id", "1": "given_name", "2": "family_name", "3": "job_title",
        "4": "company", "5": "email", "6": "phone", "7": "source", "8": "city",
        "9": "created_at",
    }  # fmt: skip
    assert job.external_source == "salesforce"
    job = map_and_check(client, job)
    assert job.status == ImportStatus.VALID, job.errors
    assert not job.day_first  # 12/31/2023 says month first
    job = commit(job, named)
    assert job.created_count == 4
    got = {c.external_id: c for c in Contact.objects.select_related("company")}
    expected = {
        "0035g00000AbCdE": ("Marc", "Benioff", "CEO", "Salesforce, Inc.", "marc@sf.example",
                            "+1 (415) 555-0100", "website", "San Francisco",
                            dt.datetime(2024, 1, 15, tzinfo=UTC)),
        "0035g00000AbCdF": ("Parker", "Harris", 'Co-founder "Chief" Technologist',
                            "Salesforce, Inc.", "parker@sf.example", "415.555.0101", "event",
                            "San Francisco", dt.datetime(2023, 12, 31, 16, 5, tzinfo=UTC)),
        "0035g00000AbCdG": ("娜", "李", "采购经理", "北京某某科技有限公司", "li.na@example.cn",
                            "138 0013 8000", "referral", "北京",
                            dt.datetime(2024, 3, 2, tzinfo=UTC)),
        "0035g00000AbCdH": ("Siobhán", "O'Neil", "", "Dublin Widgets",
                            "siobhan@widgets.example", "", "cold_call", "Dublin",
                            dt.datetime(2024, 2, 29, tzinfo=UTC)),
    }  # fmt: skip
    assert set(got) == set(expected)
    for record_id, row in expected.items():
        c = got[record_id]
        assert (
            c.given_name, c.family_name, c.job_title, c.company.name, c.primary_email,
            c.primary_phone, c.source, c.city, c.created_at,
        ) == row  # fmt: skip
        assert c.external_source == "salesforce"
    assert got["0035g00000AbCdG"].display_name == "李娜"
    assert Contact.objects.filter(company__name="Salesforce, Inc.").count() == 2


def test_day_first_dates_are_guessed_from_the_values(client, named):
    client.force_login(named)
    content = b"Name,Created Date\nA One,25/12/2023\nB Two,03/04/2024\n"
    job = map_and_check(client, upload(client, "d.csv", content))
    assert job.day_first
    commit(job, named)
    assert Contact.objects.get(display_name="B Two").created_at == dt.datetime(
        2024, 4, 3, tzinfo=UTC
    )


def test_dates_are_read_in_the_importers_time_zone(client, named):
    named.time_zone = "Asia/Shanghai"
    named.save(update_fields=["time_zone"])
    client.force_login(named)
    content = "姓名,创建时间\n王小明,2024年1月15日 09:30\n".encode()
    job = map_and_check(client, upload(client, "d.csv", content))
    commit(job, named)
    assert Contact.objects.get().created_at == dt.datetime(2024, 1, 15, 1, 30, tzinfo=UTC)


def test_a_value_that_is_not_a_date_is_a_row_error(client, named):
    client.force_login(named)
    job = map_and_check(client, upload(client, "d.csv", b"Name,Created\nA One,yesterday\n"))
    assert [e["message"] for e in job.errors] == ["“yesterday” is not a date."]


# --- Excel "CSV UTF-8" -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "company", "notes"),
    [
        ("excel-utf8-semicolon.csv", "Groß; Klein AG", 'Zeile eins\nZeile "zwei"'),
        ("excel-utf8-comma.csv", "Groß, Klein AG", 'Line one\nLine "two"'),
    ],
)
def test_excel_csv_utf8_round_trips(client, named, name, company, notes):
    client.force_login(named)
    job = upload(client, name, (FILES / name).read_bytes())
    assert job.headers[0] in ("Vorname", "First name")  # the BOM is not part of the header
    assert job.mapping == {
        "0": "given_name", "1": "family_name", "2": "email", "3": "company", "4": "notes",
    }  # fmt: skip
    job = map_and_check(client, job)
    assert job.status == ImportStatus.VALID, job.errors
    commit(job, named)
    got = {c.primary_email: c for c in Contact.objects.select_related("company")}
    assert set(got) == {"jurgen@example.de", "zoë.ångström@example.se", "amelie@example.fr"}
    jurgen = got["jurgen@example.de"]
    assert (jurgen.given_name, jurgen.family_name) == ("Jürgen", "Groß")
    assert jurgen.company.name == company
    assert jurgen.notes == notes
    zoe = got["zoë.ångström@example.se"]
    assert (zoe.given_name, zoe.family_name, zoe.company.name, zoe.notes) == (
        "Zoë",
        "Ångström",
        'The "Best" Co',
        "=1+2",
    )
    amelie = got["amelie@example.fr"]
    assert (amelie.company, amelie.notes) == (None, "-2+3")


# --- value guesses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "ours"),
    [
        ("lifecycle_stage", "Lead", "prospect"),
        ("lifecycle_stage", "Marketing Qualified Lead", "prospect"),
        ("lifecycle_stage", "salesqualifiedlead", "prospect"),
        ("lifecycle_stage", "Opportunity", "prospect"),
        ("lifecycle_stage", "Evangelist", "customer"),
        ("lifecycle_stage", "Churned customer", "former_customer"),
        ("lifecycle_stage", "潜在客户", "prospect"),
        ("lifecycle_stage", "成交客户", "customer"),
        ("lifecycle_stage", "流失客户", "former_customer"),
        ("lifecycle_stage", "Other", ""),
        ("source", "Web", "website"),
        ("source", "Trade Show", "event"),
        ("source", "Partner Referral", "referral"),
        ("source", "Phone Inquiry", "cold_call"),
        ("source", "Paid Search", "advertising"),
        ("source", "Organic Search", "website"),
        ("source", "展会", "event"),
        ("source", "官网", "website"),
        ("region", "EMEA", "europe"),
        ("region", "华东", "east_china"),
    ],
)
def test_value_guesses(field, value, ours):
    assert values.guess_value(field, value) == ours


def test_values_section_follows_the_columns_as_chosen(client, named):
    client.force_login(named)
    job = upload(client, "s.csv", b"Name,Kind\nA One,Trade Show\nB Two,Web\n")
    assert "Kind" not in str(job.mapping)
    response = client.post(
        reverse("contacts:import-detail", args=[job.pk]),
        {"action": "values", "column-0": "full_name", "column-1": "source"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="import-values">')
    assert 'value="Trade Show"' in html
    assert '<option value="event" selected>' in html
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED  # nothing saved


def test_values_beyond_the_sample_are_errors_then_offered_for_mapping(client, named, monkeypatch):
    monkeypatch.setattr(imports, "VALUE_SAMPLE_ROWS", 1)
    client.force_login(named)
    job = upload(client, "s.csv", b"Name,Stage\nA One,Lead\nB Two,Zombie\n")
    job = map_and_check(client, job)
    assert job.status == ImportStatus.INVALID
    assert [e["message"] for e in job.errors] == ["Unknown stage “Zombie”."]
    assert job.unknown_values == {"lifecycle_stage": ["Zombie"]}
    page = client.get(reverse("contacts:import-detail", args=[job.pk])).content.decode()
    assert 'name="vm-lifecycle_stage-raw" value="Zombie"' in page
    job = map_and_check(
        client,
        job,
        **{"vm-lifecycle_stage-raw": ["Zombie"], "vm-lifecycle_stage": ["former_customer"]},
    )
    assert job.status == ImportStatus.VALID
    commit(job, named)
    assert Contact.objects.get(display_name="B Two").lifecycle_stage == "former_customer"


# --- updating what exists --------------------------------------------------------------------


def test_a_second_import_updates_by_source_id(client, named):
    client.force_login(named)
    first = (FILES / "hubspot-contacts.csv").read_bytes()
    commit(map_and_check(client, upload(client, "h1.csv", first)), named)
    ada = Contact.objects.get(external_id="5101")
    second = first.replace(b'"Lovelace"', b'"King"').replace(
        b'"ada@analytical.example","Rita Rep","Lead"',
        b'"countess@analytical.example","Rita Rep","Customer"',
    )
    job = map_and_check(client, upload(client, "h2.csv", second), write_mode=ImportMode.BOTH)
    assert job.status == ImportStatus.VALID, job.errors
    assert job.updated_count == 5
    job = commit(job, named)
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 5, 0)
    assert Contact.objects.count() == 5
    ada.refresh_from_db()
    assert (ada.family_name, ada.display_name, ada.lifecycle_stage) == (
        "King",
        "Ada King",
        "customer",
    )
    assert list(ada.emails.values_list("email", "is_primary")) == [
        ("ada@analytical.example", True),
        ("countess@analytical.example", False),
    ]
    assert "king" in ada.search_text
    assert "countess@analytical.example" in ada.search_text
    # Create only: rows already imported are skipped, whatever the duplicate option.
    job = map_and_check(client, upload(client, "h3.csv", second), skip_duplicates="")
    job = commit(job, named)
    assert (job.created_count, job.skipped_count) == (0, 5)


def test_update_by_email_adds_phones_and_tags_and_update_only_skips_the_rest(
    client, named, own_contact
):
    client.force_login(named)
    content = (
        b"Email,Phone,Job title,Tags\n"
        b"olivia@acme.example,+44 20 1234 5678,Buyer,VIP\n"
        b"nobody@example.com,+1 555 999 0000,CEO,\n"
    )
    job = map_and_check(
        client, upload(client, "u.csv", content), write_mode=ImportMode.UPDATE, tag_names="Q3"
    )
    assert job.status == ImportStatus.VALID, job.errors
    job = commit(job, named)
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 1, 1)
    own_contact.refresh_from_db()
    assert own_contact.job_title == "Buyer"
    assert own_contact.given_name == "Olivia"  # not in the file: unchanged
    assert list(own_contact.phones.values_list("number", flat=True)) == [
        "+1 (555) 010-2000",
        "+44 20 1234 5678",
    ]
    assert own_contact.primary_phone == "+1 (555) 010-2000"
    assert {t.name for t in own_contact.tags.all()} == {"VIP", "Q3"}
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tag_ids FROM contacts_contact WHERE id = %s", [own_contact.pk])
        assert sorted(cursor.fetchone()[0]) == sorted(t.pk for t in own_contact.tags.all())
    assert not Contact.objects.filter(primary_email="nobody@example.com").exists()


def test_another_teams_contact_is_never_updated(client, named, other_contact):
    client.force_login(named)
    content = b"Email,Job title\nzhang.wei@west.example,Spy\n"
    job = map_and_check(client, upload(client, "u.csv", content), write_mode=ImportMode.UPDATE)
    job = commit(job, named)
    assert (job.updated_count, job.skipped_count) == (0, 1)
    other_contact.refresh_from_db()
    assert other_contact.job_title != "Spy"


def test_two_rows_with_one_source_id_are_refused(client, named):
    client.force_login(named)
    content = b"Record ID,Name\n7,A One\n7,B Two\n"
    job = map_and_check(client, upload(client, "x.csv", content))
    assert [(e["row"], e["message"]) for e in job.errors] == [(3, "Same id as row 2.")]
