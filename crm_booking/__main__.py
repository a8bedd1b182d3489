from crm_booking.cli import main

raise SystemExit(main())
