// The command line of `npm run bench -- l4-lab` (main.ts runs it).

export interface Options {
  seconds: number;
  warmup: number;
  bulkSeconds: number;
  rps: number;
  keepaliveConns: number;
  maxConns: number;
  connRate: number;
  idle: number[];
  idleStep: number;
  idleConns: number;
  traffic: boolean;
  only: string[];
  profile: boolean;
  profileSeconds: number;
  maxMinutes: number;
  rounds: number;
  out: string | undefined;
}

const USAGE = `usage: npm run bench -- l4-lab [options]
  --seconds N          seconds recorded per latency/rate phase (default 4)
  --warmup N           warm-up seconds before recording (default 1)
  --bulk-seconds N     one-stream throughput duration (default 5)
  --rps N              fixed request rate over keep-alive connections (default 1000)
  --conns N            keep-alive connections for the fixed rate (default 10)
  --rounds N           interleaved rounds of the fixed-rate phase, median reported (default 3)
  --max-conns N        connections of the closed-loop max-rps phase (default 32)
  --conn-rate N        new connections per second (default 500)
  --idle A,B           idle pod counts for the agent RSS phase, after 0 (default 10,100; empty: skip)
  --idle-step N        pods added per step while scaling up (default 8: the agent enrolls one pod at a
                       time, and a larger burst makes weft-cni's ADD time out and the runtime retry)
  --idle-conns N       idle connections client pod → server pod for the memory per open connection
                       (weft's two agents, haproxy's pair; default 5000; 0: skip)
  --no-traffic         skip the traffic phases and the CPU profile (to run the memory steps alone)
  --only a,b,c         variants: none,weft,haproxy (default all)
  --no-profile         skip the CPU profile of the weft agents
  --profile-seconds N  seconds per profiled phase (default 2)
  --max-minutes N      abort (and clean up) after this long (default 12)
  --out FILE           write the result there instead of bench/results/l4-lab.json`;

export function parseOptions(argv: string[]): Options {
  const o: Options = { seconds: 4, warmup: 1, bulkSeconds: 5, rps: 1000, keepaliveConns: 10, maxConns: 32, connRate: 500, idle: [10, 100], idleStep: 8, idleConns: 5000, traffic: true, only: ['none', 'weft', 'haproxy'], profile: true, profileSeconds: 2, maxMinutes: 12, rounds: 3, out: undefined };
  const num = (k: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) {
      console.error(`${k} needs a number\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    switch (k) {
      case '--seconds': o.seconds = num(k, v); i++; break;
      case '--warmup': o.warmup = num(k, v); i++; break;
      case '--bulk-seconds': o.bulkSeconds = num(k, v); i++; break;
      case '--rps': o.rps = num(k, v); i++; break;
      case '--conns': o.keepaliveConns = num(k, v); i++; break;
      case '--max-conns': o.maxConns = num(k, v); i++; break;
      case '--conn-rate': o.connRate = num(k, v); i++; break;
      case '--idle': o.idle = (v ?? '').split(',').filter(Boolean).map((x) => num(k, x)); i++; break;
      case '--idle-step': o.idleStep = Math.max(1, num(k, v)); i++; break;
      case '--idle-conns': o.idleConns = Math.round(num(k, v)); i++; break;
      case '--no-traffic': o.traffic = false; break;
      case '--only': o.only = (v ?? '').split(','); i++; break;
      case '--no-profile': o.profile = false; break;
      case '--profile-seconds': o.profileSeconds = num(k, v); i++; break;
      case '--max-minutes': o.maxMinutes = num(k, v); i++; break;
      case '--rounds': o.rounds = Math.max(1, Math.round(num(k, v))); i++; break;
      case '--out': o.out = v; i++; break;
      case '--help':
        console.log(USAGE);
        process.exit(0);
      // falls through
      default:
        console.error(`unknown option ${k}\n${USAGE}`);
        process.exit(2);
    }
  }
  return o;
}
