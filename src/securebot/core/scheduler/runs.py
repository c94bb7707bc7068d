"""What a job handler does around a run: find where the job runs, and audit how it went.

Handlers re-check at run time that the job's server, member and channel still exist (the
member may have left, the channel may be gone) and record each run, or the reason it was
skipped, in the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from securebot.core.scheduler.model import Job, JobRun

if TYPE_CHECKING:
    from securebot.core.audit import Auditor


def job_place(
    client: discord.Client, job: Job
) -> tuple[str, discord.Member | None, discord.TextChannel | None]:
    """Where ``job`` runs: ``("", member, channel)``, or ``(why not, ...)`` when its server,
    its member (the user who scheduled it) or its text channel is gone.

    The reasons are audit outcomes: ``skipped:guild-gone``, ``skipped:member-left``,
    ``skipped:channel-gone`` (the member is returned with the last one).
    """
    guild = client.get_guild(job.guild_id or 0)
    if guild is None:
        return "skipped:guild-gone", None, None
    member = guild.get_member(job.user_id or 0)
    if member is None:
        return "skipped:member-left", None, None
    channel = guild.get_channel(job.channel_id or 0)
    if not isinstance(channel, discord.TextChannel):
        return "skipped:channel-gone", member, None
    return "", member, channel


def audit_job_run(auditor: Auditor, run: JobRun, *, kind: str, outcome: str) -> None:
    """Record ``run`` of a job of ``kind`` and its ``outcome`` (``"ran"``, ``"skipped:..."``)
    with when it was due and how late it ran; never the job's payload."""
    job = run.job
    auditor.job(
        guild_id=job.guild_id,
        actor_id=job.user_id,
        channel_id=job.channel_id,
        kind=kind,
        outcome=outcome,
        detail={
            "job": job.id,
            "due": run.due.isoformat(),
            "late_seconds": int(run.late.total_seconds()),
        },
    )
