"""Shared helpers for tests that post admin forms the way a browser does."""

from django.urls import reverse


def change_url(record):
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


def restore_url(record, version):
    """The admin page that restores history row version of record."""
    opts = record._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history",
        args=[record.pk, version.history_id],
    )


def change_form(agreement, **overrides):
    """The agreement's admin change form as a browser would post it, with no inline rows."""
    data = {
        "title": agreement.title,
        "slug": agreement.slug,
        "sending_country": agreement.sending_country_id,
        "receiving_country": agreement.receiving_country_id,
        "kind": agreement.kind,
        "status": agreement.status,
        "legal_bindingness": agreement.legal_bindingness,
        "text_disclosure": agreement.text_disclosure,
        "summary": agreement.summary,
        "announced_precision": "day",
        "signed_precision": "day",
        "in_force_precision": "day",
        "ended_precision": "day",
        "publication_state": agreement.publication_state,
        "loaded_version": agreement.version,
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "transfers-TOTAL_FORMS": "0",
        "transfers-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def loaded_form(client, url):
    """GET an admin change (or history) page and return what its form would post unchanged:
    every field of the main form and of each inline, with the management forms, as rendered
    for that user (disabled fields are not posted, as in a browser)."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    context = response.context
    forms = [context["adminform"].form]
    data = {}
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            elif value is None:
                data[key] = ""
            else:
                formatted = field.widget.format_value(value)
                if isinstance(formatted, list):  # a select's one chosen option
                    formatted = formatted[0] if formatted else ""
                data[key] = "" if formatted is None else str(formatted)
    return data
