"""HTML views: scope (access.scoped) → service → template. No clinical logic here.

Every view starts from the actor that ``@scoped(Perm.X)`` resolved: a role without the
permission gets 403 before any patient is looked up, and ``actor.patient(...)`` makes a
foreign-centre patient a 404, exactly like one that does not exist. One module per page
area: layout (menu, frame, 403), patients (work list, lists, patient page), entry (create
forms), centre (dashboard, exports, audit).
"""
