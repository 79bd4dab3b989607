#!/usr/bin/env node
// The `chainkey-replica` command (see src/cli.ts); needs a Node that runs TypeScript (>= 22.18).
import "../src/cli.ts";
