import type { NormalizedSchedule } from '../schedule-kit.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n: string): string => n.padStart(2, '0');
const num = /^\d+$/;

function daysOf(field: string): string | undefined {
  if (field === '1-5') return 'on weekdays';
  if (field === '0,6' || field === '6,0') return 'on weekends';
  const parts = field.split(',');
  if (!parts.every((p) => num.test(p) && Number(p) <= 7)) return undefined;
  return `on ${parts.map((p) => DAYS[Number(p) % 7]).join(', ')}`;
}

/**
 * A schedule in words, for people: "every day at 03:00", "every 15 minutes", "once at
 * 2026-12-04 10:00 UTC". Cron expressions without a plain reading are shown as they are.
 * The zone is not included (show `schedule.timezone` beside it).
 */
export function describeSchedule(s: NormalizedSchedule): string {
  if (s.type !== 'cron') return s.type === 'now' ? 'once, now' : `once at ${new Date(s.at).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
  const fields = s.cron.split(' ');
  if (fields.length !== 5) return `cron "${s.cron}"`;
  const [min, hour, dom, mon, dow] = fields as [string, string, string, string, string];
  const everyDay = dom === '*' && mon === '*';
  if (everyDay && dow === '*' && hour === '*' && min === '*') return 'every minute';
  const step = /^\*\/(\d+)$/.exec(min);
  if (everyDay && dow === '*' && hour === '*' && step) return `every ${step[1]} minutes`;
  if (everyDay && dow === '*' && hour === '*' && num.test(min)) return `every hour at :${pad(min)}`;
  if (num.test(min) && num.test(hour)) {
    const at = `${pad(hour)}:${pad(min)}`;
    if (everyDay && dow === '*') return `every day at ${at}`;
    const days = everyDay ? daysOf(dow) : undefined;
    if (days) return `${days} at ${at}`;
    if (num.test(dom) && mon === '*' && dow === '*') return `on day ${dom} of every month at ${at}`;
  }
  return `cron "${s.cron}"`;
}
