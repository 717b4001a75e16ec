"""``tendon serve`` (the upload API and the coach's and runner's web pages, one server) and
``tendon hash-password`` (the scrypt hash to put in [[web.users]])."""

from __future__ import annotations

import click

from tendon_pipeline.cli.context import settings_of
from tendon_pipeline.cli.sources import _logging, serve_uploads, upload_server_options


@click.command("serve")
@upload_server_options("Uploads only land in the inbox (a separate `tendon watch` processes them); the pages still"
                       " work.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, watch_folder: bool, land_only: bool, verbose: bool) -> None:
    """Serve the web pages (coaches: their athletes, worst first, and feedback on alerts; runners:
    plan, charts and a check-in) and the FIT upload API (POST /v1/files) on one port, and
    process what arrives. Users are [[web.users]], upload tokens [[upload.tokens]]."""
    from tendon_pipeline.connectors.sources.http_upload import HttpUploadSource
    from tendon_pipeline.errors import ConfigError
    from tendon_pipeline.web.app import check_users
    from tendon_pipeline.web.server import add_web_pages

    _logging(verbose)
    settings = settings_of(ctx)
    if not settings.web.users and not settings.upload.tokens:
        raise ConfigError("no [[web.users]] and no [[upload.tokens]] configured: nobody could sign in or upload",
                          hint="add users with password hashes from `tendon hash-password`; see docs/web.md")
    check_users(settings)  # a wrong coach name fails before the port is opened
    http = HttpUploadSource(settings.upload, settings.inbox, host=host, port=port, land_only=land_only,
                            extend=lambda app: add_web_pages(app, settings))
    serve_uploads(ctx, settings, http, watch_folder=watch_folder, land_only=land_only,
                  banner=f"open {http.url}/ in a browser (sign in as a [[web.users]] entry); uploads:"
                         f" {http.url}/v1/files -> {settings.inbox}")


@click.command("hash-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
def hash_password(password_stdin: bool) -> None:
    """Print the scrypt hash of a password for `password_hash` in [[web.users]] (the password
    itself is never stored or printed)."""
    import sys

    from tendon_pipeline.web.auth import hash_password as make_hash

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.UsageError("use a password of at least 8 characters")
    click.echo(make_hash(password))


COMMANDS = [serve, hash_password]
