"""The state store's schema, one migration per version (PRAGMA user_version); store/db.py applies them."""

from __future__ import annotations

#: each entry upgrades the schema by one version (PRAGMA user_version); never edit a released one
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        command TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        user TEXT NOT NULL,
        host TEXT NOT NULL,
        moodle_url TEXT NOT NULL DEFAULT '',
        specs_commit TEXT,
        specs_dirty INTEGER,
        spec_digest TEXT,
        plan_json TEXT,
        status TEXT NOT NULL,
        summary TEXT
    );
    CREATE TABLE outcomes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        action_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL,
        moodle_id INTEGER,
        detail TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX outcomes_run ON outcomes(run_id);
    CREATE TABLE objects (
        kind TEXT NOT NULL,
        idnumber TEXT NOT NULL,
        moodle_id INTEGER NOT NULL,
        spec_key TEXT NOT NULL DEFAULT '',
        spec_version TEXT NOT NULL DEFAULT '',
        spec_hash TEXT NOT NULL DEFAULT '',
        imported INTEGER NOT NULL DEFAULT 0,
        moodle_url TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (moodle_url, kind, idnumber)
    );
    """,
    # v2: what the tool last set on each enrolment it manages (Moodle cannot be asked for dates),
    # the people hubs reported in rosters, and the roster imports themselves
    """
    CREATE TABLE enrolments (
        moodle_url TEXT NOT NULL,
        course_idnumber TEXT NOT NULL,
        userid INTEGER NOT NULL,
        roleid INTEGER NOT NULL,
        timestart INTEGER NOT NULL,
        timeend INTEGER NOT NULL,
        suspended INTEGER NOT NULL,
        rule TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (moodle_url, course_idnumber, userid)
    );
    CREATE TABLE persons (
        moodle_url TEXT NOT NULL,
        userid INTEGER NOT NULL,
        county TEXT NOT NULL,
        target_groups TEXT NOT NULL,
        organisation TEXT NOT NULL DEFAULT '',
        unit TEXT NOT NULL DEFAULT '',
        employment_start TEXT,
        employee_id TEXT,
        email TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (moodle_url, userid)
    );
    CREATE INDEX persons_county ON persons(moodle_url, county);
    CREATE TABLE roster_imports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        moodle_url TEXT NOT NULL,
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        host TEXT NOT NULL,
        hub TEXT NOT NULL DEFAULT '',
        county TEXT NOT NULL,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        mode TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        counts TEXT NOT NULL
    );
    """,
    # v3: completions pulled back from Moodle, per person and course version, and what the pull knows
    """
    CREATE TABLE course_people (
        moodle_url TEXT NOT NULL,
        course_idnumber TEXT NOT NULL,
        userid INTEGER NOT NULL,
        enrolled_since TEXT NOT NULL,
        status TEXT NOT NULL,
        lastcourseaccess INTEGER NOT NULL DEFAULT 0,
        checked_access INTEGER,
        last_checked TEXT,
        completed_at INTEGER,
        completed_source TEXT,
        PRIMARY KEY (moodle_url, course_idnumber, userid)
    );
    CREATE TABLE pull_courses (
        moodle_url TEXT NOT NULL,
        course_idnumber TEXT NOT NULL,
        no_criteria INTEGER NOT NULL DEFAULT 0,
        last_sweep TEXT,
        PRIMARY KEY (moodle_url, course_idnumber)
    );
    CREATE TABLE personal_exports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        moodle_url TEXT NOT NULL,
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        host TEXT NOT NULL,
        scope TEXT NOT NULL,
        what TEXT NOT NULL,
        rows INTEGER NOT NULL
    );
    CREATE TABLE reminders (
        moodle_url TEXT NOT NULL,
        userid INTEGER NOT NULL,
        course_idnumber TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        msgid INTEGER
    );
    CREATE INDEX reminders_user ON reminders(moodle_url, userid, course_idnumber);
    """,
    # v4: when the tool first enrolled each person (no core web service reads an enrolment's creation
    # time back), so reports count people as reached on the day they were enrolled, not the day a pull
    # first saw them; rows from before v4 take their last change as the best date known
    """
    ALTER TABLE enrolments ADD COLUMN enrolled_at TEXT;
    UPDATE enrolments SET enrolled_at = updated_at;
    """,
    # v5: the tool cohorts (tg:<group>:<county>) each person was last seen in by a pull, whoever put them there,
    # so reports count people no roster named (added to a cohort by hand) under that county and target group
    """
    CREATE TABLE cohort_places (
        moodle_url TEXT NOT NULL,
        userid INTEGER NOT NULL,
        cohort_idnumber TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (moodle_url, userid, cohort_idnumber)
    );
    """,
    # v6: the secret that keys reports' random rounding (one per site), so the same people always show the
    # same rounded count and nobody without the store can predict the rounding
    """
    CREATE TABLE report_secrets (
        moodle_url TEXT PRIMARY KEY,
        secret TEXT NOT NULL
    );
    """,
    # v7: each enrol call's intent, written before it is sent and marked done after its answer, so an
    # enrolment the tool made is never forgotten: a run killed in between, or an answer lost twice, leaves
    # it pending, and the next run settles it from what Moodle lists (store/intents.py)
    """
    CREATE TABLE enrol_intents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        moodle_url TEXT NOT NULL,
        run_id INTEGER,
        course_idnumber TEXT NOT NULL,
        courseid INTEGER NOT NULL,
        userid INTEGER NOT NULL,
        roleid INTEGER NOT NULL,
        timestart INTEGER NOT NULL,
        timeend INTEGER NOT NULL,
        suspended INTEGER NOT NULL,
        rule TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX enrol_intents_pending ON enrol_intents(moodle_url, status);
    """,
    # v8: the bulk pull through Moodle's report builder (completions/bulk.py): per person and course version what
    # the completion report last showed (Moodle's completion time, the manual enrolment's start, end and status,
    # read to the minute), the columns the tool added to the report, and where an interrupted pass stopped
    """
    ALTER TABLE course_people ADD COLUMN report_completed_at INTEGER;
    ALTER TABLE course_people ADD COLUMN seen_start INTEGER;
    ALTER TABLE course_people ADD COLUMN seen_end INTEGER;
    ALTER TABLE course_people ADD COLUMN seen_status TEXT;
    ALTER TABLE course_people ADD COLUMN seen_at TEXT;
    CREATE TABLE completion_reports (
        moodle_url TEXT NOT NULL,
        reportid INTEGER NOT NULL,
        columns TEXT NOT NULL DEFAULT '{}',
        sorted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (moodle_url, reportid)
    );
    CREATE TABLE report_passes (
        moodle_url TEXT PRIMARY KEY,
        reportid INTEGER NOT NULL,
        stamp TEXT NOT NULL,
        next_page INTEGER NOT NULL,
        per_page INTEGER NOT NULL,
        total INTEGER NOT NULL,
        anchors INTEGER NOT NULL DEFAULT 0,
        anchors_ok INTEGER NOT NULL DEFAULT 0
    );
    """,
    # v9: what each reminder was about: 'deadline' (before it) or 'overdue' (after it), so late people get at
    # most --max reminders in all; reminders from before v9 were all sent before a deadline
    """
    ALTER TABLE reminders ADD COLUMN kind TEXT NOT NULL DEFAULT 'deadline';
    """,
    # v10: sites by what Moodle says they are (site info's siteurl, normalised: store/sites.py), and the URLs
    # they were reached at. Rows keep their key column; until now it held the URL as typed, so each such key
    # becomes an unverified site that the first run reaching it renames to the site's identity
    """
    CREATE TABLE sites (
        site TEXT PRIMARY KEY,
        siteurl TEXT NOT NULL DEFAULT '',
        verified INTEGER NOT NULL DEFAULT 0,
        first_seen TEXT NOT NULL
    );
    CREATE TABLE site_urls (
        url TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        last_used TEXT NOT NULL
    );
    INSERT INTO sites (site, first_seen)
        SELECT DISTINCT moodle_url, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') FROM (
        SELECT moodle_url FROM runs
        UNION SELECT moodle_url FROM objects
        UNION SELECT moodle_url FROM enrolments
        UNION SELECT moodle_url FROM persons
        UNION SELECT moodle_url FROM roster_imports
        UNION SELECT moodle_url FROM course_people
        UNION SELECT moodle_url FROM pull_courses
        UNION SELECT moodle_url FROM personal_exports
        UNION SELECT moodle_url FROM reminders
        UNION SELECT moodle_url FROM cohort_places
        UNION SELECT moodle_url FROM report_secrets
        UNION SELECT moodle_url FROM enrol_intents
        UNION SELECT moodle_url FROM completion_reports
        UNION SELECT moodle_url FROM report_passes) WHERE moodle_url != '';
    INSERT INTO site_urls (url, site, last_used) SELECT site, site, first_seen FROM sites;
    """,
    # v11: the completion report's dates as it shows them (wall-clock minutes, completions/report_dates.py), kept
    # until a pass has read every page and knows the timezone they are shown in; the course dates it showed. A pass
    # interrupted before v11 kept no shown dates: it starts over
    """
    DELETE FROM report_passes;
    ALTER TABLE course_people ADD COLUMN shown_completed INTEGER;
    ALTER TABLE course_people ADD COLUMN shown_start INTEGER;
    ALTER TABLE course_people ADD COLUMN shown_end INTEGER;
    ALTER TABLE course_people ADD COLUMN shown_enrolled INTEGER;
    ALTER TABLE report_passes ADD COLUMN course_dates TEXT NOT NULL DEFAULT '{}';
    """,
    # v12: what reports need of a person whose records were purged or erased (moodle_sync/privacy/): one fact per
    # course version, with no name, e-mail, employer unit or employee id, so earlier periods' figures stay the same.
    # ``person`` is Moodle's user number alone: it counts the person once and keys the rounding (reports/groups.py)
    """
    CREATE TABLE kept_facts (
        moodle_url TEXT NOT NULL,
        person INTEGER NOT NULL,
        course_idnumber TEXT NOT NULL,
        county TEXT,
        target_groups TEXT NOT NULL,
        organisation TEXT NOT NULL DEFAULT '',
        enrolled_since TEXT,
        completed_on TEXT,
        completed_source TEXT,
        status TEXT NOT NULL,
        deadline TEXT,
        deadline_kind TEXT,
        refresher_due TEXT,
        kept_on TEXT NOT NULL,
        PRIMARY KEY (moodle_url, person, course_idnumber)
    );
    """,
    # v13: the timezone(s) the last finished pass through the completion report read its dates in, and what it read
    # of a person's earliest start (for people the tool did not enrol): a pass that finds the same timezone reads
    # again only the dates shown otherwise (completions/pass_dates.py)
    """
    ALTER TABLE completion_reports ADD COLUMN read_in TEXT;
    ALTER TABLE course_people ADD COLUMN read_enrolled INTEGER;
    """,
    # v14: how many rows the last finished pass through the completion report read, and when it began: the next pull
    # asks for its first pages before it looks at the report (completions/bulk.py read_early)
    """
    ALTER TABLE completion_reports ADD COLUMN rows INTEGER;
    ALTER TABLE completion_reports ADD COLUMN finished TEXT;
    """,
)
