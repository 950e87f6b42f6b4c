/* report.js: steps a pooltrace report through its run. Inlined into every report by viz/report.c.
 *
 * The graph was laid out once for the whole run: every process, pipe and pipe
 * fd hold there ever was. At step N only what is alive right after event N is
 * shown: a hold k (edge id "h<k>") is live when H[k][0] <= N and (H[k][1] is 0,
 * never ended, or H[k][1] > N), exactly the fd_holds rows alive then; a pipe is
 * shown while one of its ends is held; a process (id "p<pid>") from its fork
 * until it is reaped.
 */
(function () {
	'use strict';
	var data = JSON.parse(document.getElementById('report-data').textContent);
	var H = data.holds, P = data.procs;
	var items = Array.prototype.slice.call(document.querySelectorAll('#events li'));
	var steps = items.map(function (li) { return Number(li.getAttribute('data-seq')); });
	var edges = H.map(function (h, k) { return document.getElementById('h' + k); });
	var pipes = Array.prototype.slice.call(document.querySelectorAll('g.node.pipe'));
	var current = 0;

	function alive(from, to, n) { return from <= n && (to === 0 || to > n); }

	/* Shows the state right after event n; marks the step at or before it. */
	function show(n) {
		var held = {};
		H.forEach(function (h, k) {
			var on = alive(h[0], h[1], n);
			if (edges[k])
				edges[k].classList.toggle('live', on);
			if (on)
				held[h[3]] = true;
		});
		pipes.forEach(function (g) { g.classList.toggle('live', !!held[g.id.slice(4)]); });
		Object.keys(P).forEach(function (pid) {
			var g = document.getElementById('p' + pid);
			if (!g)
				return;
			g.classList.toggle('live', alive(P[pid][0], P[pid][1], n));
			g.classList.toggle('exited', P[pid][2] !== 0 && P[pid][2] <= n);
			g.classList.remove('current');
		});
		current = 0;
		while (current + 1 < steps.length && steps[current + 1] <= n)
			current++;
		items.forEach(function (li, i) { li.classList.toggle('current', i === current); });
		if (items[current]) {
			var actor = document.getElementById('p' + items[current].getAttribute('data-pid'));
			if (actor && steps[current] <= n)
				actor.classList.add('current');
			items[current].scrollIntoView({ block: 'nearest' });
		}
		document.getElementById('where').textContent = 'after event ' + n + ' (step ' + (current + 1) + ' of ' + steps.length + ')';
		document.body.setAttribute('data-seq', String(n));
	}

	function go(i) {
		i = Math.max(0, Math.min(steps.length - 1, i));
		history.replaceState(null, '', '#seq=' + steps[i]);
		show(steps[i]);
	}

	function fromHash() {
		var m = /seq=(\d+)/.exec(location.hash);
		show(m ? Number(m[1]) : steps[0]);
	}

	document.getElementById('prev').addEventListener('click', function () { go(current - 1); });
	document.getElementById('next').addEventListener('click', function () { go(current + 1); });
	items.forEach(function (li, i) { li.addEventListener('click', function () { go(i); }); });
	document.addEventListener('keydown', function (e) {
		var to = { ArrowLeft: current - 1, ArrowUp: current - 1, ArrowRight: current + 1, ArrowDown: current + 1,
			   Home: 0, End: steps.length - 1 }[e.key];
		if (to === undefined)
			return;
		e.preventDefault();
		go(to);
	});
	window.addEventListener('hashchange', fromHash);
	fromHash();
})();
