/** Every study command end to end against the redis storage (see study-cli-suite.ts). */
import { defineStudyCliSuite } from './study-cli-suite.js';

defineStudyCliSuite('redis');
