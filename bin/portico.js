#!/usr/bin/env node
// The `portico` command: runs the TypeScript entry through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../server/src/main.ts');
