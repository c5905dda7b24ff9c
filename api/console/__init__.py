"""The console: server-rendered pages for officers and inspectors, in the API's own Litestar app.

``accounts`` holds the users (argon2 password hashes), sign-in attempts and the lock after ten
failures; ``sessions`` keeps server-side sessions in the database; the page modules (``officer``,
``inspector``, ``gate``) render Jinja templates from ``templates/`` with assets from ``static/``.
"""
