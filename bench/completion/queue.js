// A task queue with retries and a limit on how many tasks run at once.

class TaskQueue {
  constructor(limit = 2, retries = 1) {
    this.limit = limit;
    this.retries = retries;
    this.running = 0;
    this.waiting = [];
    this.results = new Map();
  }

  push(name, task) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ name, task, resolve, reject, attempts: 0 });
      this.next();
    });
  }

  next() {
    if (this.running >= this.limit || this.waiting.length === 0) {
      return;
    }
    const job = this.waiting.shift();
    this.running += 1;
    this.run(job);
  }

  async run(job) {
    try {
      const value = await job.task();
      this.results.set(job.name, value);
      job.resolve(value);
    } catch (error) {
      job.attempts += 1;
      if (job.attempts <= this.retries) {
        this.waiting.push(job);
      } else {
        job.reject(error);
      }
    } finally {
      this.running -= 1;
      this.next();
    }
  }

  get size() {
    return this.waiting.length + this.running;
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main() {
  const queue = new TaskQueue(2);
  const names = ["alpha", "beta", "gamma"];
  const done = await Promise.all(names.map((name) => queue.push(name, () => delay(10).then(() => name.length))));
  console.log(done.join(", "));
}

module.exports = { TaskQueue, delay, main };
