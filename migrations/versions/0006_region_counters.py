"""region_counter, region_type_counter: per-region subtree totals kept on every write (issue 15)

Filled here for existing data: households, visits and members from the household rows' own
counters (what the roll-up read until now), attempts, scores and per-type answers from the
credited quiz sessions. The per-region quiz stats they replace are dropped. `flask coverage
verify` checks the result against the raw rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:50:00

"""
from collections import defaultdict

from alembic import op
import sqlalchemy as sa

from quizbot.models.types import UTCDateTime


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COUNTS = ("households_total", "households_visited", "households_quizzed", "members_total",
          "members_quizzed", "attempts", "score_sum")
TIMES = ("last_visit_at", "last_quiz_at", "own_last_visit_at", "own_last_quiz_at")


def upgrade():
    op.create_table(
        'region_counter',
        sa.Column('region_id', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTS],
        *[sa.Column(name, UTCDateTime(), nullable=True) for name in TIMES],
        sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_region_counter_region_id_region'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('region_id', name=op.f('pk_region_counter')))
    op.create_table(
        'region_type_counter',
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('scam_type_id', sa.String(length=64), nullable=False),
        sa.Column('answered', sa.BigInteger(), nullable=False),
        sa.Column('correct', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['region.id'],
                                name=op.f('fk_region_type_counter_region_id_region'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('region_id', 'scam_type_id', name=op.f('pk_region_type_counter')))
    fill(op.get_bind())
    op.drop_table('region_type_stat')
    op.drop_table('region_score_stat')


def fill(conn):
    """Subtree totals of every region: household rows' counters, credited sessions and answers."""
    later = lambda a, b: b if a is None else a if b is None else max(a, b)  # noqa: E731
    region = sa.table('region', sa.column('id'), sa.column('code'), sa.column('path'))
    household = sa.table('household', *[sa.column(c) for c in (
        'region_id', 'member_count', 'members_quizzed', 'quiz_count', 'visit_count')],
        sa.column('last_visit_at', UTCDateTime()))
    session = sa.table('quiz_session', sa.column('id'), sa.column('region_id'), sa.column('credited'),
                       sa.column('score'), sa.column('submitted_at', UTCDateTime()))
    answer = sa.table('quiz_answer', sa.column('session_id'), sa.column('scam_type_id'), sa.column('correct'))
    nodes = conn.execute(sa.select(region.c.id, region.c.code, region.c.path)).all()
    by_code = {code: rid for rid, code, _p in nodes}
    chain = {rid: [by_code[c] for c in path.strip('/').split('/') if c in by_code] for rid, _c, path in nodes}
    own = defaultdict(lambda: {**dict.fromkeys(COUNTS, 0), **dict.fromkeys(TIMES)})
    h = household.c
    for rid, n, visited, quizzed, members, members_quizzed, last in conn.execute(sa.select(
            h.region_id, sa.func.count(), sa.func.sum(sa.case((h.visit_count > 0, 1), else_=0)),
            sa.func.sum(sa.case((h.quiz_count > 0, 1), else_=0)), sa.func.sum(h.member_count),
            sa.func.sum(h.members_quizzed), sa.func.max(h.last_visit_at)).group_by(h.region_id)):
        own[rid].update(households_total=n, households_visited=int(visited or 0),
                        households_quizzed=int(quizzed or 0), members_total=int(members or 0),
                        members_quizzed=int(members_quizzed or 0), last_visit_at=last)
    credited = session.c.credited.is_(True)
    for rid, attempts, score_sum, last in conn.execute(sa.select(
            session.c.region_id, sa.func.count(), sa.func.coalesce(sa.func.sum(session.c.score), 0),
            sa.func.max(session.c.submitted_at)).where(credited, session.c.region_id.is_not(None))
            .group_by(session.c.region_id)):
        own[rid].update(attempts=attempts, score_sum=int(score_sum), last_quiz_at=last)
    tree = defaultdict(lambda: {**dict.fromkeys(COUNTS, 0), **dict.fromkeys(TIMES)})
    for rid, fig in own.items():
        tree[rid]['own_last_visit_at'] = fig['last_visit_at']
        tree[rid]['own_last_quiz_at'] = fig['last_quiz_at']
        for anc in chain.get(rid, ()):
            for name in COUNTS:
                tree[anc][name] += fig[name]
            for name in ('last_visit_at', 'last_quiz_at'):
                tree[anc][name] = later(tree[anc][name], fig[name])
    type_tree = defaultdict(lambda: [0, 0])
    for rid, type_id, answered, correct in conn.execute(sa.select(
            session.c.region_id, answer.c.scam_type_id, sa.func.count(),
            sa.func.sum(sa.case((answer.c.correct.is_(True), 1), else_=0)))
            .select_from(answer.join(session, session.c.id == answer.c.session_id))
            .where(credited, session.c.region_id.is_not(None))
            .group_by(session.c.region_id, answer.c.scam_type_id)):
        for anc in chain.get(rid, ()):
            type_tree[(anc, type_id)][0] += answered
            type_tree[(anc, type_id)][1] += int(correct or 0)
    counter = sa.table('region_counter', sa.column('region_id'), *[sa.column(c) for c in COUNTS],
                       *[sa.column(c, UTCDateTime()) for c in TIMES])
    type_counter = sa.table('region_type_counter', sa.column('region_id'), sa.column('scam_type_id'),
                            sa.column('answered'), sa.column('correct'))
    rows = [{'region_id': rid, **fig} for rid, fig in sorted(tree.items())]
    type_rows = [{'region_id': rid, 'scam_type_id': t, 'answered': a, 'correct': c}
                 for (rid, t), (a, c) in sorted(type_tree.items())]
    for start in range(0, len(rows), 5000):
        conn.execute(counter.insert(), rows[start:start + 5000])
    for start in range(0, len(type_rows), 5000):
        conn.execute(type_counter.insert(), type_rows[start:start + 5000])


def downgrade():
    # The per-region quiz stats come back from the counters of the regions' own attempts
    # (subtree totals minus the children's).
    op.create_table(
        'region_score_stat',
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('score_sum', sa.Integer(), nullable=False),
        sa.Column('last_quiz_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_region_score_stat_region_id_region')),
        sa.PrimaryKeyConstraint('region_id', name=op.f('pk_region_score_stat')))
    op.create_table(
        'region_type_stat',
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('scam_type_id', sa.String(length=64), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('correct', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_region_type_stat_region_id_region')),
        sa.PrimaryKeyConstraint('region_id', 'scam_type_id', name=op.f('pk_region_type_stat')))
    conn = op.get_bind()
    region = sa.table('region', sa.column('id'), sa.column('parent_id'))
    counter = sa.table('region_counter', sa.column('region_id'), sa.column('attempts'), sa.column('score_sum'),
                       sa.column('own_last_quiz_at', UTCDateTime()))
    type_counter = sa.table('region_type_counter', sa.column('region_id'), sa.column('scam_type_id'),
                            sa.column('answered'), sa.column('correct'))
    parent = dict(conn.execute(sa.select(region.c.id, region.c.parent_id)).all())
    own = {rid: [a, s, last] for rid, a, s, last in conn.execute(sa.select(
        counter.c.region_id, counter.c.attempts, counter.c.score_sum, counter.c.own_last_quiz_at))}
    own_types = {(rid, t): [a, c] for rid, t, a, c in conn.execute(sa.select(
        type_counter.c.region_id, type_counter.c.scam_type_id, type_counter.c.answered, type_counter.c.correct))}
    tree = {rid: tuple(v) for rid, v in own.items()}
    tree_types = {key: tuple(v) for key, v in own_types.items()}
    for rid, (a, s, _last) in tree.items():
        if parent.get(rid) in own:
            own[parent[rid]][0] -= a
            own[parent[rid]][1] -= s
    for (rid, t), (a, c) in tree_types.items():
        if (parent.get(rid), t) in own_types:
            own_types[(parent[rid], t)][0] -= a
            own_types[(parent[rid], t)][1] -= c
    score_rows = [{'region_id': r, 'attempts': a, 'score_sum': s, 'last_quiz_at': last}
                  for r, (a, s, last) in own.items() if a]
    type_rows = [{'region_id': r, 'scam_type_id': t, 'answered': a, 'correct': c}
                 for (r, t), (a, c) in own_types.items() if a]
    if score_rows:
        conn.execute(sa.table('region_score_stat', sa.column('region_id'), sa.column('attempts'),
                              sa.column('score_sum'), sa.column('last_quiz_at', UTCDateTime())).insert(), score_rows)
    if type_rows:
        conn.execute(sa.table('region_type_stat', sa.column('region_id'), sa.column('scam_type_id'),
                              sa.column('answered'), sa.column('correct')).insert(), type_rows)
    op.drop_table('region_type_counter')
    op.drop_table('region_counter')
