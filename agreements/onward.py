"""Onward removals on the public pages: the chain a transfer belongs to (where its people came
from, where they were sent on to) as an ordered path of countries and the transfers behind it.

Transfer.chain_before / chain_after walk the links; this module puts what they find in the
order a reader follows it. The database trigger (migration 0013) guarantees that an onward
transfer leaves the country its earlier transfer ended in, so the countries line up in stages.
"""

from dataclasses import dataclass, field

from agreements.listing import first_rows
from agreements.models import Transfer


@dataclass
class Chain:
    """before: the earlier transfers, first stage first; after: the onward ones, nearest first;
    path: the countries in order, one list per stage (several where people came from, or were
    sent on to, more than one country at that stage)."""

    transfer: Transfer
    before: list = field(default_factory=list)
    after: list = field(default_factory=list)
    path: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.before or self.after)


def _stages(found, start, backward):
    """Group the found transfers into stages moving away from the country `start`: backward,
    the transfers that ended in the current stage's countries; forward, those that left them.
    Each transfer is placed once, so a chain that passes a country twice still ends."""
    remaining = list(found)
    countries, stages = {start.pk: start}, []
    while remaining:
        arrive = "to_country_id" if backward else "from_country_id"
        stage = [t for t in remaining if getattr(t, arrive) in countries]
        if not stage:
            break  # unreachable through the trigger's rule; never loop on bad data
        remaining = [t for t in remaining if t not in stage]
        countries = {}
        for transfer in stage:  # already in date order (the walk sorts by date)
            country = transfer.from_country if backward else transfer.to_country
            countries.setdefault(country.pk, country)
        stages.append((stage, list(countries.values())))
    return stages, remaining


def transfer_chain(transfer, visible):
    """The chain through `transfer`, limited to the `visible` transfers (public pages pass
    Transfer.objects.published(): a draft never appears, and the walk stops at one)."""
    before_stages, before_rest = _stages(
        transfer.chain_before(visible), transfer.from_country, backward=True
    )
    after_stages, after_rest = _stages(
        transfer.chain_after(visible), transfer.to_country, backward=False
    )
    before_stages.reverse()
    return Chain(
        transfer=transfer,
        before=[t for stage, _ in before_stages for t in stage] + before_rest,
        after=[t for stage, _ in after_stages for t in stage] + after_rest,
        path=[countries for _, countries in before_stages]
        + [[transfer.from_country], [transfer.to_country]]
        + [countries for _, countries in after_stages],
    )


# The agreement page lists this many onward removals of its transfers' people.
SENT_ON_LIMIT = 25


def sent_on_rows(earlier, limit=SENT_ON_LIMIT):
    """(rows, more): the first `limit` published onward removals that continue one of the
    `earlier` transfers, whatever their own agreement, as table rows by date (two queries:
    their ids, then the rows), and whether there are more."""
    onward = Transfer.objects.published().continuing(earlier).order_by("date", "id")
    rows = first_rows(onward, limit + 1)
    return rows[:limit], len(rows) > limit
