"""The seed data: real agreements from public reporting, loaded once, idempotently."""

import shutil

import pytest
import yaml
from django.conf import settings

from agreements.models import Agreement, AgreementEvent, Source, Transfer
from agreements.seed import SeedError, load_seed

pytestmark = pytest.mark.django_db

SEED = settings.BASE_DIR / "fixtures" / "seed"


def counts():
    return [model.objects.count() for model in (Agreement, AgreementEvent, Transfer, Source)]


def test_seed_loads_every_record(seeded):
    assert counts() == [28, 164, 32, 267]
    assert not Agreement.objects.exclude(publication_state="published").exists()


def test_every_event_and_transfer_cites_a_source(seeded):
    assert not AgreementEvent.objects.filter(sources__isnull=True).exists()
    assert not Transfer.objects.filter(sources__isnull=True).exists()


def test_loading_twice_changes_nothing(seeded):
    before = counts()
    stamps = list(Agreement.objects.order_by("pk").values_list("updated_at", flat=True))
    stats = load_seed(SEED)
    assert str(stats) == "Seed data already up to date: nothing changed."
    assert counts() == before
    assert list(Agreement.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps


def test_corrected_description_updates_instead_of_duplicating(seeded, tmp_path):
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    path = copy / "agreements" / "us-sv-2025.yaml"
    data = yaml.safe_load(path.read_text())
    data["events"][0]["description"] = "A corrected description."
    path.write_text(yaml.safe_dump(data))
    load_seed(copy)
    assert counts() == [28, 164, 32, 267]
    assert AgreementEvent.objects.filter(description="A corrected description.").count() == 1


def test_a_corrected_date_moves_the_row_it_names_instead_of_adding_one(seeded, tmp_path):
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    path = copy / "agreements" / "us-sv-2025.yaml"
    data = yaml.safe_load(path.read_text())
    event = data["events"][0]
    row = AgreementEvent.objects.get(
        agreement__slug="us-sv-2025", kind=event["kind"], description=event["description"].strip()
    )
    event["replaces"] = {"date": event["date"]}
    event["date"] = "2019-01-02"
    path.write_text(yaml.safe_dump(data))
    load_seed(copy)
    assert counts() == [28, 164, 32, 267]
    row.refresh_from_db()
    assert str(row.date) == "2019-01-02"  # the same row, history and sources kept


def test_a_corrected_transfer_date_moves_the_transfer(seeded, tmp_path):
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    path = copy / "agreements" / "us-sv-2025.yaml"
    data = yaml.safe_load(path.read_text())
    transfer = data["transfers"][0]
    transfer["replaces"] = {"date": transfer["date"]}
    transfer["date"] = "2019-01"
    path.write_text(yaml.safe_dump(data))
    load_seed(copy)
    assert counts() == [28, 164, 32, 267]
    assert Transfer.objects.filter(agreement__slug="us-sv-2025", date="2019-01-01").count() == 1


def test_a_bad_reference_loads_nothing(db, tmp_path):
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    path = copy / "agreements" / "uk-rw-2022.yaml"
    data = yaml.safe_load(path.read_text())
    data["transfers"][0]["sources"] = ["no-such-source"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SeedError, match="unknown source keys"):
        load_seed(copy)
    assert counts() == [0, 0, 0, 0]


def test_an_unknown_country_loads_nothing(db, tmp_path):
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    path = copy / "agreements" / "it-al-2023.yaml"
    data = yaml.safe_load(path.read_text())
    data["receiving_country"] = "QQ"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SeedError, match="unknown country code 'QQ'"):
        load_seed(copy)
    assert counts() == [0, 0, 0, 0]


def test_summaries_are_the_trackers_own_words(seeded):
    """No seed text is copied from the research notes (facts.yaml): no shared 12-word run."""
    facts_path = settings.BASE_DIR.parent / "shared" / "data" / "facts.yaml"
    if not facts_path.exists():
        pytest.skip("shared/data/facts.yaml is not beside the project")
    facts = yaml.safe_load(facts_path.read_text())
    notes = [a["summary"] for a in facts["agreements"]]
    notes += [e["description"] for a in facts["agreements"] for e in a["events"]]
    notes += [t["description"] for t in facts["transfers"]]

    def runs(text, n=12):
        words = text.lower().split()
        return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}

    noted = set().union(*(runs(text) for text in notes))
    ours = list(Agreement.objects.values_list("summary", flat=True))
    ours += list(AgreementEvent.objects.values_list("description", flat=True))
    ours += list(Transfer.objects.values_list("description", flat=True))
    copied = [text for text in ours if runs(text) & noted]
    assert copied == []


def test_el_salvador_page_shows_its_agreement(client, seeded):
    content = client.get("/countries/sv/").content.decode()
    assert "United States - El Salvador: detention of US deportees at CECOT" in content


def test_rwanda_page_shows_its_agreements_as_host(client, seeded):
    response = client.get("/countries/rw/")
    hosted = {agreement.slug for agreement in response.context["agreements_hosted"]}
    assert hosted == {"us-rw-2025", "uk-rw-2022", "dk-rw-2021", "il-rw-2014"}
    assert "UK" in response.content.decode() or "United Kingdom" in response.content.decode()


def test_disagreeing_figures_stay_visible(client, seeded):
    content = client.get("/agreements/us-sv-2025/").content.decode()
    assert "238" in content and "261" in content
    assert "4.76" in content and "6 million" in content
