# gen-docs.cmake - man pages (man/handoff.1, man/handoff-CMD.1) and bash/zsh completion
# (completion/handoff.bash, completion/_handoff) generated from the built binary's --help
# texts, so they cannot drift from what the binary accepts.
#   cmake -DHO_BIN=build/handoff -DOUT=build -DVERSION=0.1.0 -P deploy/gen-docs.cmake
cmake_minimum_required(VERSION 3.18)
file(MAKE_DIRECTORY ${OUT}/man ${OUT}/completion)
string(TIMESTAMP HO_DATE "%Y-%m-%d" UTC) # honours SOURCE_DATE_EPOCH (reproducible builds)

function(s_help out_var)
    execute_process(COMMAND ${CMAKE_COMMAND} -E env HO_LOG_LEVEL=error ${HO_BIN} ${ARGN}
        OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_QUIET)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${HO_BIN} ${ARGN}: exit ${rc}")
    endif()
    set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# roff: backslashes escaped, a line starting with . or ' protected, shown as written.
function(s_roff text out_var)
    string(REPLACE "\\" "\\e" text "${text}")
    string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
    set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

s_help(main --help)
string(REGEX MATCHALL "\n  [a-z][a-z-]+ +[^\n]+" lines "${main}")
set(commands "")
set(see_also "")
set(main_list "")
foreach(line ${lines})
    string(REGEX REPLACE "^\n  ([a-z][a-z-]+) +(.*)$" "\\1" cmd "${line}")
    string(REGEX REPLACE "^\n  ([a-z][a-z-]+) +(.*)$" "\\2" summary "${line}")
    list(APPEND commands ${cmd})
    s_roff("${summary}" summary_roff)
    string(APPEND main_list ".TP\n.B handoff ${cmd}\n${summary_roff}\n")
    string(APPEND see_also ".BR handoff-${cmd} (1),\n")
    s_help(help ${cmd} --help)
    s_roff("${help}" help_roff)
    string(TOUPPER "handoff-${cmd}" title)
    file(WRITE ${OUT}/man/handoff-${cmd}.1
        ".\\\" generated from `handoff ${cmd} --help` by deploy/gen-docs.cmake\n"
        ".TH ${title} 1 \"${HO_DATE}\" \"handoff ${VERSION}\" \"handoff manual\"\n"
        ".SH NAME\nhandoff-${cmd} \\- ${summary_roff}\n"
        ".SH DESCRIPTION\n.nf\n${help_roff}.fi\n"
        ".SH SEE ALSO\n.BR handoff (1)\n")

    # completion material: options, subcommands ("handoff dlq list ..."), worker names
    string(REGEX MATCHALL "--[a-z][a-z0-9-]+" opts "${help}")
    list(APPEND opts --help)
    list(REMOVE_DUPLICATES opts)
    list(SORT opts)
    string(REPLACE ";" " " opts "${opts}")
    set(subs "")
    string(REGEX MATCHALL "handoff ${cmd} [a-z][a-z-]+" sublines "${help}")
    foreach(sl ${sublines})
        string(REGEX REPLACE "^handoff ${cmd} " "" sub "${sl}")
        list(APPEND subs ${sub})
    endforeach()
    if(cmd STREQUAL "worker")
        s_help(workers worker --list)
        string(REGEX MATCHALL "(^|\n)  [a-z]+" names "${workers}")
        foreach(n ${names})
            string(STRIP "${n}" n)
            list(APPEND subs ${n})
        endforeach()
    endif()
    if(subs)
        list(REMOVE_DUPLICATES subs)
    endif()
    string(REPLACE ";" " " subs "${subs}")
    string(REPLACE "-" "_" var "${cmd}")
    string(APPEND bash_cases "        ${cmd}) opts=\"${opts}\"; subs=\"${subs}\" ;;\n")
    string(APPEND zsh_cases "    ${cmd}) opts=(${opts}); subs=(${subs}) ;;\n")
endforeach()
string(REPLACE ";" " " command_words "${commands}")

s_roff("${main}" main_roff)
file(WRITE ${OUT}/man/handoff.1
    ".\\\" generated from `handoff --help` by deploy/gen-docs.cmake\n"
    ".TH HANDOFF 1 \"${HO_DATE}\" \"handoff ${VERSION}\" \"handoff manual\"\n"
    ".SH NAME\nhandoff \\- B2B leads from marketing to sales: a ZeroMQ broker and its workers\n"
    ".SH SYNOPSIS\n.B handoff\n.I COMMAND\n[options]\n"
    ".br\n.B handoff --version\n"
    ".SH COMMANDS\n${main_list}"
    ".SH FILES\n.TP\n.I /etc/handoff/handoff.yaml\nthe gateway config (also \\fB$HANDOFF_CONFIG\\fR, \\fI./deploy/handoff.yaml\\fR);\n"
    "the other config files are read next to it\n"
    ".SH ENVIRONMENT\n.TP\n.B HANDOFF_CONFIG\npath of handoff.yaml\n.TP\n.B HO_LOG_LEVEL\n"
    "debug, info, warn or error (logs go to stderr)\n"
    ".SH SEE ALSO\n${see_also}"
    "the operations guide (docs/operations.md)\n")

file(WRITE ${OUT}/completion/handoff.bash
"# bash completion for handoff (generated from --help by deploy/gen-docs.cmake)
_handoff()
{
    local cur=\"\${COMP_WORDS[COMP_CWORD]}\" cmd=\"\${COMP_WORDS[1]}\" opts=\"\" subs=\"\"
    if [ \"\$COMP_CWORD\" -eq 1 ]; then
        COMPREPLY=( \$(compgen -W \"${command_words} --help --version\" -- \"\$cur\") )
        return 0
    fi
    case \"\$cmd\" in
${bash_cases}        *) return 0 ;;
    esac
    if [[ \"\$cur\" == -* ]]; then
        COMPREPLY=( \$(compgen -W \"\$opts\" -- \"\$cur\") )
    elif [ \"\$COMP_CWORD\" -eq 2 ] && [ -n \"\$subs\" ]; then
        COMPREPLY=( \$(compgen -W \"\$subs\" -- \"\$cur\") )
    else
        COMPREPLY=( \$(compgen -f -- \"\$cur\") )
    fi
    return 0
}
complete -F _handoff handoff
")

file(WRITE ${OUT}/completion/_handoff
"#compdef handoff
# zsh completion for handoff (generated from --help by deploy/gen-docs.cmake)
_handoff() {
  local -a opts subs
  if (( CURRENT == 2 )); then
    compadd -- ${command_words} --help --version
    return
  fi
  case \${words[2]} in
${zsh_cases}    *) return 1 ;;
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    compadd -- \$opts
  elif (( CURRENT == 3 )) && (( \${#subs} )); then
    compadd -- \$subs
  else
    _files
  fi
}
_handoff \"\$@\"
")
