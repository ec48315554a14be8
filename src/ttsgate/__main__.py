from ttsgate.cli import main

raise SystemExit(main())
