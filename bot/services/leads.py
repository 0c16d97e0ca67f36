"""Leads for exhibitors: visitors who scanned, saved or asked, seen by the exhibit's
representatives once the visitor opted in, scored and noted by them, exported as CSV/XLSX;
counts per exhibit and hall for organizers. Also who answers an organization's exhibit."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.domain import leads as rules
from bot.domain.clock import Clock
from bot.domain.leads import Counts, LeadError
from bot.services.exhibits import Exhibit, ExhibitService, title_of
from bot.services.exports import Cell, Table
from storage.db import Database
from storage.leads import ExhibitCount as ExhibitCount  # organizers' figures
from storage.leads import Lead as Lead  # the record handlers show
from storage.leads import LeadRepository

EXPORT_HEADER = (
    "exhibit", "title", "name", "organization", "contact", "scanned_at", "saved_at",
    "asked_at", "score", "note",
)  # fmt: skip


class LeadService:
    """Leads and representatives over the database."""

    def __init__(self, db: Database, clock: Clock, exhibits: ExhibitService) -> None:
        self._db = db
        self.clock = clock
        self.exhibits = exhibits
        self.repo = LeadRepository(db, clock)

    # -- what visitors do -----------------------------------------------------------------------

    async def record(self, exhibit_id: int, visitor_id: int, action: str) -> None:
        """A visitor scanned the booth QR, saved the exhibit or asked to meet about it."""
        await self.repo.record(exhibit_id, visitor_id, action)

    async def opted_in(self, exhibit_id: int, visitor_id: int) -> bool:
        """Whether the visitor left their card at the exhibit."""
        return await self.repo.opted_in(exhibit_id, visitor_id)

    async def set_opt_in(self, exhibit_id: int, visitor_id: int, wanted: bool) -> None:
        """Show the visitor to the exhibit's representatives, or stop."""
        await self.repo.set_opt_in(exhibit_id, visitor_id, wanted)

    # -- representatives ------------------------------------------------------------------------

    async def team(self, exhibit: Exhibit) -> list[int]:
        """Who answers for the exhibit: its owner first, then the organization's delegates."""
        owner = await self.exhibits.owner_of(exhibit)
        if owner is not None and await self.repo.member(owner) is None:
            owner = None  # imported but not registered: the organization's delegates answer
        return rules.representatives(exhibit.data.organization, owner, await self.repo.delegates())

    async def represented(self, delegate_id: int) -> list[Exhibit]:
        """The exhibits a delegate answers for: owned, or their organization's."""
        member = await self.repo.member(delegate_id)
        if member is None:
            return []
        organization, external_id = member
        key = rules.organization_key(organization)
        ids = [
            eid
            for eid, org, owner in await self.repo.organizations()
            if (external_id is not None and owner == external_id)
            or (key and rules.organization_key(org) == key)
        ]
        found = [await self.exhibits.get(eid) for eid in ids]
        return sorted((e for e in found if e is not None), key=lambda e: e.data.key)

    # -- leads ----------------------------------------------------------------------------------

    async def leads_of(self, delegate_id: int) -> list[Lead]:
        """The opted-in leads of every exhibit the delegate answers for."""
        exhibits = {e.id: e for e in await self.represented(delegate_id)}
        # The exhibit's own people (its owner, its organization) visiting it are not leads.
        own = {eid: await self.exhibits.owner_of(e) for eid, e in exhibits.items()}
        return [
            lead
            for lead in await self.repo.for_exhibits(list(exhibits))
            if lead.delegate_id not in (delegate_id, own[lead.exhibit_id])
            and not rules.same_organization(
                lead.organization, exhibits[lead.exhibit_id].data.organization
            )
        ]

    async def lead(self, delegate_id: int, lead_id: int) -> Lead:
        """One lead, if the delegate answers for its exhibit; LeadError otherwise."""
        lead = await self.repo.get(lead_id)
        if lead is None:
            raise LeadError(f"lead {lead_id} does not exist or is not shared")
        if lead.exhibit_id not in {e.id for e in await self.represented(delegate_id)}:
            raise LeadError(f"delegate {delegate_id} does not answer for lead {lead_id}")
        return lead

    async def set_note(self, delegate_id: int, lead_id: int, text: str) -> Lead:
        """The representative's note on a lead (blank text clears it)."""
        await self.lead(delegate_id, lead_id)
        await self.repo.set_note(lead_id, rules.clean_note(text))
        return await self.lead(delegate_id, lead_id)

    async def set_score(self, delegate_id: int, lead_id: int, score: int) -> Lead:
        """The representative's 1-5 interest score on a lead."""
        await self.lead(delegate_id, lead_id)
        await self.repo.set_score(lead_id, rules.check_score(score))
        return await self.lead(delegate_id, lead_id)

    async def export(self, delegate_id: int, zone: ZoneInfo, language: str) -> Table:
        """The delegate's leads as a table (times in the event's zone, titles in `language`)."""
        exhibits = {e.id: e for e in await self.represented(delegate_id)}
        leads = await self.leads_of(delegate_id)

        def local(moment: dt.datetime | None) -> str:
            return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        header = tuple(f"{c} ({zone.key})" if c.endswith("_at") else c for c in EXPORT_HEADER)
        rows: list[tuple[Cell, ...]] = [
            (
                lead.exhibit_key,
                title_of(exhibits[lead.exhibit_id], language)[1],
                lead.name,
                lead.organization,
                lead.contact or "",
                local(lead.scanned_at),
                local(lead.saved_at),
                local(lead.asked_at),
                lead.score,
                lead.note or "",
            )
            for lead in leads
        ]
        return Table("leads", header, rows)

    # -- organizers -----------------------------------------------------------------------------

    async def counts(self) -> list[ExhibitCount]:
        """Per exhibit: scans, saves, requests and cards left."""
        return await self.repo.counts()

    async def counts_by_hall(self) -> list[tuple[str, Counts]]:
        """The same, summed per hall, busiest first."""
        return rules.per_hall((c.hall, c.counts) for c in await self.repo.counts())
