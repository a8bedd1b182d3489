"""`python -m crm_service`: migrate the database and serve the API with uvicorn."""

import logging
import sys

import uvicorn
from pydantic import ValidationError

from crm_service.request_log import configure_logging
from crm_service.settings import get_settings


def main() -> None:
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            print(
                f"crm_service: {error['msg'].removeprefix('Value error, ')}",
                file=sys.stderr,
            )
        raise SystemExit(3) from None
    configure_logging(settings.log_format)
    # Alembic announces each of its plugins at INFO; the migration lines themselves stay.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # With JSON logs uvicorn keeps its hands off logging, so its lines reach the JSON handler.
    log_config = None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG
    uvicorn.run("crm_service.main:app", host=settings.crm_host, port=settings.crm_port,
                log_config=log_config)


if __name__ == "__main__":
    main()
