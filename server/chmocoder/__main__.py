from chmocoder.cli import main

raise SystemExit(main())
