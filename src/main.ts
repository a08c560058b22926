// The service: ROLE=all (default: API and worker in one process), api, or worker.
import 'reflect-metadata';
import { runProcess } from './bootstrap.js';

void runProcess();
