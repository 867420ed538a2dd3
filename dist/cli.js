#!/usr/bin/env node
import { createRequire as __arciCreateRequire } from 'node:module'; const require = __arciCreateRequire(import.meta.url);

// src/cli.ts
console.log("autoresearch-ci");
