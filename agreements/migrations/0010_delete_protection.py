"""Nothing cited can vanish, in the database too (agreements/protection.py explains the design).

Django deletes a source's link rows before the source, in the same transaction, so a trigger on
the source table would find nothing citing it. Instead each link table gets a constraint trigger
deferred to commit: a deleted link row whose source (or country) is gone while its record still
exists means the source was deleted from under the record, and the transaction is refused.
"""

from django.db import migrations

# (link table, the record it belongs to, the source or country it points at, how it uses it).
# Each points at agreements_<record>.id and agreements_<target>.id through <record>_id, <target>_id.
LINKS = [
    ("agreements_agreement_sources", "agreement", "source", "cited by"),
    ("agreements_agreementevent_sources", "agreementevent", "source", "cited by"),
    ("agreements_transfer_sources", "transfer", "source", "cited by"),
    ("agreements_transfer_nationalities", "transfer", "country", "a nationality of"),
]

CREATE = """
CREATE FUNCTION {table}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM agreements_{target} WHERE id = OLD.{target}_id)
       AND EXISTS (SELECT FROM agreements_{record} WHERE id = OLD.{record}_id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            MESSAGE = format(
                '{target} %s cannot be deleted: it is {verb} {record} %s',
                OLD.{target}_id, OLD.{record}_id
            ),
            HINT = 'Withdraw a record instead of deleting it or what it cites.';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER {table}_keep
    AFTER DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION {table}_keep();
"""

DROP = """
DROP TRIGGER IF EXISTS {table}_keep ON {table};
DROP FUNCTION IF EXISTS {table}_keep();
"""


def _sql(template, link):
    table, record, target, verb = link
    return template.format(table=table, record=record, target=target, verb=verb)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0009_review_versions_tombstones")]

    operations = [
        migrations.RunSQL(sql=_sql(CREATE, link), reverse_sql=_sql(DROP, link)) for link in LINKS
    ]
