/** What an event id, step name, producer and target look like (every entry point checks them). */
export const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const STEP = /^[A-Za-z0-9._:/ -]{1,128}$/;
export const PRODUCER = /^[A-Za-z0-9._:@-]{0,128}$/;
export const TARGET = /^[a-z][a-z0-9-]*\/[A-Za-z0-9._:-]{1,128}$/;
