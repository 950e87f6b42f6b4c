# pooltrace.bash: bash completion for pooltrace: its commands, each command's
# options, the values of --strategy, --scenario, --at, --format (export's:
# perfetto), --foreign and --fail-on,
# trace files (*.db) for --db, the runs stored in that file for --run and --runs,
# the program's own command line after `record --`, and pids for `snapshot`.
#
# `make install` puts it in share/bash-completion/completions/pooltrace, where
# bash-completion loads it on first use; without that package, source it from
# ~/.bashrc. tests/test_docs.c checks it against `pooltrace help COMMAND` and
# the values the binary itself accepts.

_pooltrace_commands="record snapshot explain run query render compare timeline report export help"
_pooltrace_strategies="naive close-all reverse-close child-close close-range"
_pooltrace_scenarios="empty-read full-pipe full-pipe-stuck eof sigpipe sigpipe-ignored coalesce coalesce-fixed atomic atomic-big"
_pooltrace_moments="spawned shutdown blocked hang busiest end"

# The options `pooltrace help CMD` lists, short and long.
_pooltrace_options()
{
	local draw="-d --db -o --output --format --max-workers --foreign -h --help"
	case $1 in
	record) echo "-d --db --io --stacks --hang-ms -p --pid --for --kill-on-deadlock --fail-on --error-exitcode --json -q --quiet -h --help" ;;
	snapshot) echo "-d --db --all --fail-on --error-exitcode --json -q --quiet -h --help" ;;
	explain) echo "-d --db -r --run --json -h --help" ;;
	run) echo "-s --strategy --scenario --pause-ms -w --workers -t --tasks --task-ms" \
		"--crash-worker --shutdown-delay-ms -d --db --no-trace --no-io-events --hang-ms" \
		"--log-size --log-wait-ms --stats --fail-on --error-exitcode --json -q --quiet -h --help" ;;
	query) echo "-d --db -f --file --csv --json --jsonl -h --help" ;;
	render) echo "-r --run -a --at $draw" ;;
	compare) echo "-r --runs -a --at $draw" ;;
	timeline) echo "-r --run $draw" ;;
	report) echo "-r --run -d --db -o --output --max-workers -h --help" ;;
	export) echo "--format -r --run -d --db -o --output -h --help" ;;
	esac
}

# The run ids stored in the trace the command line names (--db, else
# $POOLTRACE_DB, else ./pooltrace.db), read with the binary being completed.
_pooltrace_runs()
{
	local db=${POOLTRACE_DB:-pooltrace.db} i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		-d | --db)
			db=${COMP_WORDS[i + 1]}
			# --db=FILE: bash splits it into --db, '=' and FILE.
			[[ $db == = ]] && db=${COMP_WORDS[i + 2]}
			;;
		--db=*) db=${COMP_WORDS[i]#--db=} ;;
		esac
	done
	[[ -f $db ]] || return 0
	"${COMP_WORDS[0]}" query --db "$db" --csv "SELECT id FROM runs ORDER BY id" 2>/dev/null | tail -n +2
}

# Files matching a glob, and directories to descend into (one a line, so a
# name with spaces stays one candidate).
_pooltrace_files()
{
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	if [[ $1 == '*' ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	else
		COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X "!$1" -- "$cur"))
	fi
}

# Whether command $1 takes option $2 (a value is offered only where it is).
_pooltrace_takes()
{
	[[ " $(_pooltrace_options "$1") " == *" $2 "* ]]
}

_pooltrace()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" i
	COMPREPLY=()
	# --opt=value: bash splits it at '=' into --opt, '=' and value.
	if [[ $cur == = ]]; then
		cur=""
	elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} != -* ]]; then
			cmd=${COMP_WORDS[i]}
			break
		fi
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-h --help -V --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_pooltrace_commands" -- "$cur"))
		fi
		return 0
	fi
	if [[ $cmd == help ]]; then
		((COMP_CWORD == i + 1)) && COMPREPLY=($(compgen -W "${_pooltrace_commands% help}" -- "$cur"))
		return 0
	fi

	# record -- CMD ARGS: the program's own command line.
	if [[ $cmd == record ]]; then
		local j
		for ((j = i + 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in
			-d | --db | --hang-ms | --fail-on | --error-exitcode) ((j++)); continue ;; # their value, even one spelled --
			--) ;;
			*) continue ;;
			esac
			if ((COMP_CWORD == j + 1)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				_pooltrace_files '*'
			fi
			return 0
		done
	fi

	# A value only for an option this command takes (timeline has no --at).
	if [[ $prev == -* ]] && ! _pooltrace_takes "$cmd" "$prev"; then
		return 0
	fi

	case $prev in
	-s | --strategy) COMPREPLY=($(compgen -W "$_pooltrace_strategies" -- "$cur")); return 0 ;;
	--scenario) COMPREPLY=($(compgen -W "$_pooltrace_scenarios" -- "$cur")); return 0 ;;
	-a | --at) COMPREPLY=($(compgen -W "$_pooltrace_moments" -- "$cur")); return 0 ;;
	--format)
		if [[ $cmd == export ]]; then
			COMPREPLY=($(compgen -W "perfetto" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "svg png pdf dot" -- "$cur"))
		fi
		return 0
		;;
	--foreign) COMPREPLY=($(compgen -W "compact full none" -- "$cur")); return 0 ;;
	--fail-on)
		# A comma list: complete the word after the last comma.
		local done="" part=$cur
		if [[ $cur == *,* ]]; then
			done=${cur%,*},
			part=${cur##*,}
		fi
		COMPREPLY=($(compgen -P "$done" -W "deadlock leak blocker" -- "$part"))
		return 0
		;;
	-d | --db) _pooltrace_files '*.db'; return 0 ;;
	-f | --file)
		if [[ $cmd == query ]]; then
			_pooltrace_files '*.sql'
			return 0
		fi
		;;
	-o | --output) _pooltrace_files '*'; return 0 ;;
	-r | --run | --runs)
		# --runs takes 1,2,3: complete the id after the last comma.
		local done="" part=$cur
		if [[ $cur == *,* ]]; then
			done=${cur%,*},
			part=${cur##*,}
		fi
		COMPREPLY=($(compgen -P "$done" -W "$(_pooltrace_runs)" -- "$part"))
		return 0
		;;
	-w | --workers | -t | --tasks | --task-ms | --crash-worker | --shutdown-delay-ms | --pause-ms | \
		--hang-ms | --log-size | --log-wait-ms | --max-workers | --error-exitcode | --for)
		return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_pooltrace_options "$cmd")" -- "$cur"))
	elif [[ $cmd == record && -z $cur ]]; then
		COMPREPLY=(-- $(_pooltrace_options record))
	elif [[ $cmd == snapshot || $prev == -p || $prev == --pid ]]; then
		# The processes to read or attach to: their pids.
		COMPREPLY=($(compgen -W "$(ps -e -o pid= 2>/dev/null)" -- "$cur"))
	fi
	return 0
}
complete -F _pooltrace pooltrace
