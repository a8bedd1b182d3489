"""`python -m crm_service`: migrate the database and serve the API with uvicorn."""

import logging
import sys

import uvicorn
from pydantic import ValidationError

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
        raise SystemExit(2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic announces each of its plugins at INFO; the migration lines themselves stay.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    uvicorn.run("crm_service.main:app", host=settings.crm_host, port=settings.crm_port)


if __name__ == "__main__":
    main()
