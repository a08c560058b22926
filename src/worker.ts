// The worker process: BullMQ processors through createApplicationContext, no HTTP.
import 'reflect-metadata';
import { runProcess } from './bootstrap.js';

void runProcess('worker');
